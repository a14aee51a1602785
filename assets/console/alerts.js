// Alerts: the newest stored ones, then each new one as the console's live feed delivers it (the feed resumes after
// the last alert it saw when its socket comes back, so none is missed), filtered by severity.

import { gql } from "./api.js";
import { announce, h, short, when } from "./ui.js";

const RANKS = { INFO: 0, WARNING: 1, CRITICAL: 2 };
const STORED = `query($min: Severity) { alerts(minSeverity: $min, first: 50) {
  nodes { cursor id severity kind message createdAt payoutRequestId paymentId webhookId } } }`;

export function render(main, { alertFeed, seen }) {
  seen();
  let min = "INFO";
  const shown = new Set();
  const list = h("ol", { class: "alerts", "aria-live": "polite", "aria-label": "Alerts, newest first" });
  const state = h("p", { class: "muted" });
  const item = (a) =>
    h("li", { class: `alert ${a.severity.toLowerCase()}`, "data-kind": a.kind },
      h("span", { class: "sev" }, a.severity.toLowerCase()),
      h("strong", {}, a.kind.replaceAll("_", " ")),
      h("p", {}, a.message),
      h("small", {}, when(a.createdAt),
        a.payoutRequestId ? [" · payout ", h("a", { href: `#/investigation/${a.payoutRequestId}` }, short(a.payoutRequestId))] : null,
        a.paymentId ? [" · payment ", short(a.paymentId)] : null,
        a.webhookId ? [" · webhook ", short(a.webhookId)] : null),
    );
  // Alerts that arrive while the stored ones are being read wait, then go on top unless the read had them.
  let arriving = null;
  const load = async () => {
    arriving = [];
    list.removeAttribute("data-loaded");
    const { alerts } = await gql(STORED, { min });
    shown.clear();
    alerts.nodes.forEach((a) => shown.add(a.id));
    list.replaceChildren(...alerts.nodes.map(item));
    if (!alerts.nodes.length) list.replaceChildren(h("li", { class: "empty" }, "No alerts at this severity."));
    const waited = arriving;
    arriving = null;
    waited.forEach(show);
    list.setAttribute("data-loaded", "");
  };
  const show = (a) => {
    if (shown.has(a.id) || RANKS[a.severity] < RANKS[min]) return;
    shown.add(a.id);
    list.querySelector(".empty")?.remove();
    const fresh = item(a);
    fresh.classList.add("fresh");
    list.prepend(fresh);
  };
  const live = (e) => {
    if (arriving) arriving.push(e.detail);
    else show(e.detail);
    seen();
  };
  const status = (e) => {
    state.textContent = { live: "Live: new alerts appear at the top.", reconnecting: "Reconnecting… alerts missed meanwhile will follow." }[e.detail.now] ?? "";
  };
  alertFeed.addEventListener("alert", live);
  alertFeed.addEventListener("status", status);
  const filter = h("select", { id: "severity", onchange: (e) => {
    min = e.target.value;
    load().catch((err) => announce(err.message, "error"));
  } }, Object.keys(RANKS).map((s) => h("option", { value: s }, s === "INFO" ? "All" : `${s.toLowerCase()} and above`)));
  main.append(h("div", { class: "toolbar" }, h("label", { for: "severity" }, "Severity"), filter, state), list);
  load().catch((e) => announce(`Alerts could not be read: ${e.message}`, "error"));
  return () => {
    alertFeed.removeEventListener("alert", live);
    alertFeed.removeEventListener("status", status);
  };
}
