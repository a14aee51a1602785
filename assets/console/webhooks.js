// The webhook log: every delivery Cashfree made, refused ones too, with its verdict and outcome, the raw body as
// it arrived (pretty-printed when it is JSON), and a reprocess (admin, with a reason) for one that failed.

import { gql } from "./api.js";
import { announce, confirmAction, h, once, pages, settle, showMore, when } from "./ui.js";

const LOG = `query($f: PaymentWebhookFilter, $after: String) {
  paymentWebhooks(filter: $f, first: 25, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id receivedAt eventType signatureValid outcome error orderId cfPaymentId rawBody }
  }
}`;
const REPROCESS = `mutation($i: ReprocessWebhookInput!) { reprocessWebhook(input: $i) { id outcome error } }`;
const OUTCOMES = ["", "PROCESSED", "DUPLICATE", "REJECTED_SIGNATURE", "MALFORMED", "UNMATCHED", "FAILED"];

export function render(main, { admin }) {
  const outcome = h("select", { id: "w-outcome" }, OUTCOMES.map((o) => h("option", { value: o }, o ? o.toLowerCase() : "any")));
  const order = h("input", { id: "w-order", autocomplete: "off" });
  const log = h("div", {});
  const filter = () => {
    const f = {};
    if (outcome.value) f.outcome = [outcome.value];
    if (order.value.trim()) f.orderId = order.value.trim();
    return f;
  };
  const list = pages(async (after) => (await gql(LOG, { f: filter(), after })).paymentWebhooks);
  const load = async (more = false) => {
    await list.load(more);
    log.replaceChildren(h("p", { class: "muted" }, `${list.total} deliveries, newest first.`),
      h("ul", { class: "plain deliveries" }, list.rows.map(item)));
    if (list.more) log.append(showMore(load));
  };
  const item = (w) => h("li", { class: `delivery ${w.outcome.toLowerCase()}`, "data-id": w.id },
    h("details", {},
      h("summary", {}, h("strong", {}, w.outcome.toLowerCase()), ` ${w.eventType ?? "unknown event"} · ${when(w.receivedAt)}`,
        w.orderId ? ` · order ${w.orderId}` : "", w.signatureValid ? "" : " · signature refused"),
      w.error ? h("p", { class: "why" }, w.error) : null,
      h("pre", { tabindex: 0, "aria-label": "raw body" }, pretty(w.rawBody)),
      admin && (w.signatureValid && (w.outcome === "FAILED" || w.outcome === "UNMATCHED"))
        ? h("button", { type: "button", onclick: (e) => once(e.target, () => reprocess(w)) }, "Reprocess")
        : null));
  const reprocess = async (w) => {
    const reason = await confirmAction({
      title: "Reprocess this delivery?",
      lines: ["It is applied again as if it had just arrived; money moves only if it was not applied before."],
      action: "Reprocess",
      reason: "Reason (kept in the audit trail)",
    });
    if (reason === null) return;
    await settle(() => gql(REPROCESS, { i: { webhookId: w.id, reason } }),
      ({ reprocessWebhook: r }) => `Reprocessed: ${r.outcome.toLowerCase()}${r.error ? `, ${r.error}` : ""}.`, load);
  };
  const form = h("form", { class: "toolbar", onsubmit: (e) => {
    e.preventDefault();
    load().catch((err) => announce(err.message, "error"));
  } }, h("label", { for: "w-outcome" }, "Outcome"), outcome, h("label", { for: "w-order" }, "Order id"), order,
    h("button", { type: "submit" }, "Filter"));
  main.append(form, log);
  load().catch((e) => announce(`The webhook log could not be read: ${e.message}`, "error"));
}

/// A body as it arrived, indented if it is JSON.
function pretty(body) {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
