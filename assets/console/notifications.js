// Notifications and their delivery to the marketplace's callback: status, attempts, the last error; one that could
// not be delivered can be sent again (admin, with a reason).

import { gql } from "./api.js";
import { announce, confirmAction, h, once, pages, settle, short, showMore, when } from "./ui.js";

const LIST = `query($f: NotificationFilter, $after: String) {
  notifications(filter: $f, first: 25, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id recipientId kind title createdAt payoutRequestId
      delivery { status attempts lastAttemptAt nextAttemptAt deliveredAt lastError } }
  }
}`;
const REDELIVER = `mutation($i: RedeliverNotificationInput!) { redeliverNotification(input: $i) { id delivery { status } } }`;

export function render(main, { admin }) {
  const status = h("select", { id: "n-status" }, ["", "PENDING", "DELIVERED", "FAILED", "SKIPPED"]
    .map((s) => h("option", { value: s }, s ? s.toLowerCase() : "any")));
  const found = h("div", {});
  const list = pages(async (after) =>
    (await gql(LIST, { f: status.value ? { deliveryStatus: [status.value] } : null, after })).notifications);
  const load = async (more = false) => {
    await list.load(more);
    found.replaceChildren(h("p", { class: "muted" }, `${list.total} notifications, newest first.`),
      list.rows.length ? h("table", {},
        h("thead", {}, h("tr", {}, ["Written", "To", "What", "Delivery", admin ? "Redeliver" : null]
          .filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, list.rows.map(row))) : null);
    if (list.more) found.append(showMore(load));
  };
  const row = (n) => h("tr", { "data-id": n.id },
    h("td", { "data-label": "Written" }, when(n.createdAt)),
    h("td", { "data-label": "To" }, short(n.recipientId)),
    h("td", { "data-label": "What" }, n.title, h("small", {}, ` ${n.kind.replaceAll("_", " ")}`)),
    h("td", { "data-label": "Delivery" }, h("strong", {}, n.delivery.status.toLowerCase()),
      ` after ${n.delivery.attempts} attempt${n.delivery.attempts === 1 ? "" : "s"}`,
      n.delivery.deliveredAt ? h("small", {}, ` delivered ${when(n.delivery.deliveredAt)}`) : null,
      n.delivery.nextAttemptAt && n.delivery.status === "PENDING" ? h("small", {}, ` next ${when(n.delivery.nextAttemptAt)}`) : null,
      n.delivery.lastError ? h("p", { class: "why" }, n.delivery.lastError) : null),
    admin ? h("td", { "data-label": "Redeliver" }, n.delivery.status === "FAILED"
      ? h("button", { type: "button", onclick: (e) => once(e.target, () => redeliver(n)) }, "Redeliver")
      : "—") : null);
  const redeliver = async (n) => {
    const reason = await confirmAction({
      title: "Send this notification again?",
      lines: [`"${n.title}" goes to the marketplace's callback again, with a fresh set of attempts.`],
      action: "Redeliver",
      reason: "Reason (kept in the audit trail)",
    });
    if (reason === null) return;
    await settle(() => gql(REDELIVER, { i: { notificationId: n.id, reason } }), () => "Queued for delivery again.", load);
  };
  main.append(h("form", { class: "toolbar", onsubmit: (e) => {
    e.preventDefault();
    load().catch((err) => announce(err.message, "error"));
  } }, h("label", { for: "n-status" }, "Delivery"), status, h("button", { type: "submit" }, "Filter")), found);
  load().catch((e) => announce(`Notifications could not be read: ${e.message}`, "error"));
}
