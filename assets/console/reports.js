// Reports with charts, per currency: payment success rate, platform fees collected, payout requests and decisions
// over time, and the top freelancers and clients, for a range the reader picks; the same figures as CSV.

import { gql, session } from "./api.js";
import { announce, h, money, once } from "./ui.js";

const SVG = "http://www.w3.org/2000/svg";
const DAY = 86400000;

export function render(main) {
  const today = new Date();
  const iso = (d) => d.toISOString().slice(0, 10);
  const from = h("input", { id: "r-from", type: "date", value: iso(new Date(today - 13 * DAY)) });
  const to = h("input", { id: "r-to", type: "date", value: iso(today) });
  const currency = h("input", { id: "r-currency", value: "INR", size: 4, maxlength: 3, autocomplete: "off" });
  const out = h("div", { class: "reports" });
  const range = () => {
    const start = new Date(`${from.value}T00:00:00Z`);
    const end = new Date(new Date(`${to.value}T00:00:00Z`).getTime() + DAY);
    return { start, end, currency: currency.value.trim().toUpperCase() || "INR" };
  };

  const load = async () => {
    const { start, end, currency: cur } = range();
    const days = Math.round((end - start) / DAY);
    if (!(days > 0 && days <= 62)) return announce("Pick a range of 1 to 62 days, the first day before the last.", "error");
    // One request: the financial report, then each day's payment and payout statistics under an alias of its own.
    const daily = Array.from({ length: days }, (_, i) => {
      const a = new Date(start.getTime() + i * DAY).toISOString();
      const b = new Date(start.getTime() + (i + 1) * DAY).toISOString();
      return `p${i}: paymentStats(from: "${a}", to: "${b}", currency: $c) { successRate total }
        o${i}: payoutStats(from: "${a}", to: "${b}", currency: $c) { requested { count } paid { count } rejected { count } }`;
    });
    const data = await gql(`query($from: DateTime!, $to: DateTime!, $c: String) {
      financialReport(from: $from, to: $to, granularity: DAY, currency: $c) { periodStart fees feeRevenue payments gross }
      topFreelancers(from: $from, to: $to, currency: $c, limit: 5) { id payments amount }
      topClients(from: $from, to: $to, currency: $c, limit: 5) { id payments amount }
      ${daily.join("\n")}
    }`, { from: start.toISOString(), to: end.toISOString(), c: cur });
    const labels = Array.from({ length: days }, (_, i) => new Date(start.getTime() + i * DAY).toISOString().slice(5, 10));
    const fees = labels.map((_, i) => {
      const day = new Date(start.getTime() + i * DAY).toISOString().slice(0, 10);
      return Number(data.financialReport.find((p) => p.periodStart === day)?.fees ?? 0);
    });
    const rate = labels.map((_, i) => (data[`p${i}`].successRate === null ? null : Number(data[`p${i}`].successRate)));
    const series = (key) => labels.map((_, i) => data[`o${i}`][key].count);
    out.replaceChildren(
      chart("Payment success rate (%)", labels, [{ name: "success rate", values: rate, kind: "line" }], 100),
      chart(`Platform fees collected (${cur})`, labels, [{ name: "fees", values: fees, kind: "bar" }]),
      chart("Payout requests and decisions", labels, [
        { name: "requested", values: series("requested"), kind: "bar" },
        { name: "paid", values: series("paid"), kind: "bar" },
        { name: "rejected", values: series("rejected"), kind: "bar" },
      ]),
      ranking("Top freelancers", data.topFreelancers, cur),
      ranking("Top clients", data.topClients, cur),
    );
  };

  const download = async () => {
    const { start, end, currency: cur } = range();
    const query = new URLSearchParams({ from: start.toISOString(), to: end.toISOString(), granularity: "DAY", currency: cur });
    const answer = await fetch(`/api/admin/reports/financial.csv?${query}`, { headers: { authorization: `Bearer ${session.token}` } });
    if (!answer.ok) {
      const body = await answer.json().catch(() => ({}));
      return announce(`The CSV could not be made: ${body.error?.message ?? `HTTP ${answer.status}`}`, "error");
    }
    const link = h("a", { href: URL.createObjectURL(await answer.blob()), download: `paydesk-financial-${from.value}-${to.value}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    announce("The CSV was downloaded.", "ok");
  };

  main.append(
    h("form", { class: "toolbar", onsubmit: (e) => {
      e.preventDefault();
      load().catch((err) => announce(`The report could not be made: ${err.message}`, "error"));
    } },
      h("label", { for: "r-from" }, "From"), from, h("label", { for: "r-to" }, "To"), to,
      h("label", { for: "r-currency" }, "Currency"), currency,
      h("button", { type: "submit", class: "primary" }, "Show"),
      h("button", { type: "button", onclick: (e) => once(e.target, download) }, "Download CSV")),
    out,
  );
  load().catch((e) => announce(`The report could not be made: ${e.message}`, "error"));
}

/// A chart drawn as SVG elements (no library, nothing inline for the page's policy to refuse), with a table of the
/// same figures for screen readers and for reading exact values.
function chart(title, labels, series, ceiling) {
  const width = 720, height = 220, pad = 32;
  const values = series.flatMap((s) => s.values.filter((v) => v !== null));
  const top = ceiling ?? Math.max(1, ...values);
  const x = (i) => pad + (i + 0.5) * ((width - 2 * pad) / labels.length);
  const y = (v) => height - pad - (v / top) * (height - 2 * pad);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, class: "chart" });
  svg.append(el("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, class: "axis" }));
  svg.append(text(pad - 4, pad, String(Math.round(top)), "end"), text(pad - 4, height - pad, "0", "end"));
  const bars = series.filter((s) => s.kind === "bar");
  const slot = (width - 2 * pad) / labels.length;
  const bw = Math.max(2, (slot * 0.8) / Math.max(1, bars.length));
  bars.forEach((s, k) => s.values.forEach((v, i) => {
    if (!v) return;
    const left = x(i) - (bw * bars.length) / 2 + k * bw;
    svg.append(el("rect", { x: left, y: y(v), width: bw, height: height - pad - y(v), class: `series s${k}` },
      el("title", {}, `${labels[i]}: ${s.name} ${v}`)));
  }));
  for (const s of series.filter((s) => s.kind === "line")) {
    const points = s.values.map((v, i) => (v === null ? null : `${x(i)},${y(v)}`)).filter(Boolean);
    if (points.length) svg.append(el("polyline", { points: points.join(" "), class: "series line" }));
    s.values.forEach((v, i) => v !== null && svg.append(el("circle", { cx: x(i), cy: y(v), r: 3, class: "series line" },
      el("title", {}, `${labels[i]}: ${v.toFixed(1)}%`))));
  }
  labels.forEach((l, i) => i % Math.ceil(labels.length / 10) === 0 && svg.append(text(x(i), height - pad + 16, l, "middle")));
  const legend = h("p", { class: "legend" }, series.map((s, k) =>
    h("span", { class: `key ${s.kind === "line" ? "line" : `s${k}`}` }, s.name)));
  const figures = h("details", {}, h("summary", {}, "Figures"),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Day"), series.map((s) => h("th", { scope: "col" }, s.name)))),
      h("tbody", {}, labels.map((l, i) => h("tr", {}, h("td", {}, l),
        series.map((s) => h("td", { class: "num" }, s.values[i] === null ? "—" : String(Math.round(s.values[i] * 100) / 100))))))));
  return h("section", { class: "card" }, h("h2", {}, title), svg, legend, figures);
}

function ranking(title, rows, currency) {
  return h("section", { class: "card" }, h("h2", {}, title), rows.length
    ? h("ol", {}, rows.map((r) => h("li", {}, h("span", { class: "id" }, r.id), ` ${money(r.amount, r.currency ?? currency)} over ${r.payments} payments`)))
    : h("p", { class: "empty" }, "No payments in this range."));
}

function el(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function text(x, y, value, anchor) {
  return el("text", { x, y, "text-anchor": anchor, class: "tick" }, value);
}
