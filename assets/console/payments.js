// Payments search, as ops look a payment up when a client calls: by order id, Cashfree's payment id, the bank's
// reference (UTR), amounts and dates; a payment still pending can be verified by hand (admin, with what was checked).

import { gql } from "./api.js";
import { announce, confirmAction, h, money, once, pages, settle, short, showMore, when } from "./ui.js";

const SEARCH = `query($f: PaymentFilter, $after: String) {
  payments(filter: $f, first: 25, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id orderId cfPaymentId bankReference freelancerId amount currency status platformFee netAmount
      refundedAmount paymentMethod failureReason paidAt verifiedAt verifiedBy createdAt }
  }
}`;
const VERIFY = `mutation($i: VerifyPaymentInput!) { verifyPayment(input: $i) { id status } }`;

/// The search form's fields: label, filter field, input type.
const FIELDS = [
  ["Order id", "orderId", "text"],
  ["Cashfree payment id", "cfPaymentId", "text"],
  ["Bank reference (UTR)", "bankReference", "text"],
  ["Freelancer id", "freelancerId", "text"],
  ["Amount from", "amountMin", "text"],
  ["Amount to", "amountMax", "text"],
  ["Paid from", "paidFrom", "date"],
  ["Paid to", "paidTo", "date"],
];

export function render(main, { admin }) {
  const inputs = Object.fromEntries(FIELDS.map(([, key, type]) =>
    [key, h("input", { id: `f-${key}`, name: key, type, autocomplete: "off", inputmode: key.startsWith("amount") ? "decimal" : null })]));
  const status = h("select", { id: "f-status" },
    ["", "PENDING", "SUCCESS", "FAILED", "USER_DROPPED", "CANCELLED", "REFUNDED"].map((s) => h("option", { value: s }, s ? s.toLowerCase() : "any")));
  const found = h("div", { class: "found" });
  const list = pages(async (after) => (await gql(SEARCH, { f: filter(), after })).payments);

  const filter = () => {
    const f = {};
    for (const [key, input] of Object.entries(inputs)) {
      const value = input.value.trim();
      if (!value) continue;
      f[key] = input.type === "date" ? new Date(`${value}T${key.endsWith("To") ? "23:59:59" : "00:00:00"}Z`).toISOString() : value;
    }
    if (status.value) f.status = [status.value];
    return f;
  };
  const search = async (more = false) => {
    await list.load(more);
    found.replaceChildren(
      h("p", { class: "muted" }, `${list.total} found.`),
      list.rows.length ? h("table", {},
        h("thead", {}, h("tr", {}, ["Order", "Paid", "Amount", "Status", "Freelancer", "References", admin ? "Verify" : null]
          .filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, list.rows.map(row))) : null,
    );
    if (list.more) found.append(showMore(search));
  };
  const row = (p) => h("tr", { "data-id": p.id },
    h("td", { "data-label": "Order" }, p.orderId),
    h("td", { "data-label": "Paid" }, when(p.paidAt) || "—"),
    h("td", { "data-label": "Amount", class: "num" }, money(p.amount, p.currency),
      p.netAmount ? h("small", {}, ` net ${money(p.netAmount, p.currency)}`) : null),
    h("td", { "data-label": "Status" }, p.status.toLowerCase(), p.failureReason ? h("p", { class: "why" }, p.failureReason) : null,
      p.verifiedAt ? h("small", {}, ` verified ${when(p.verifiedAt)}`) : null),
    h("td", { "data-label": "Freelancer" }, short(p.freelancerId)),
    h("td", { "data-label": "References" }, [p.cfPaymentId, p.bankReference, p.paymentMethod].filter(Boolean).join(" · ") || "—"),
    admin ? h("td", { "data-label": "Verify" }, p.verifiedAt
      ? "verified"
      : h("button", { type: "button", onclick: (e) => once(e.target, () => verify(p)) }, "Verify")) : null,
  );
  const verify = async (p) => {
    const reason = await confirmAction({
      title: `Verify order ${p.orderId}?`,
      lines: [
        p.status === "SUCCESS"
          ? "The payment is marked verified; no money moves."
          : `A payment not yet successful is settled now: ${money(p.amount, p.currency)} less the platform fee is credited to the freelancer's wallet (with Cashfree configured, only if Cashfree reports it paid).`,
      ],
      action: "Verify payment",
      reason: "What was checked, and where (kept in the audit trail)",
    });
    if (reason === null) return;
    await settle(() => gql(VERIFY, { i: { paymentId: p.id, reason } }),
      ({ verifyPayment }) => `Verified: the payment is ${verifyPayment.status.toLowerCase()}.`, search);
  };
  const form = h("form", { class: "card search", onsubmit: (e) => {
    e.preventDefault();
    search().catch((err) => announce(`The search failed: ${err.message}`, "error"));
  } },
    h("div", { class: "grid" }, FIELDS.map(([label, key]) => h("div", {}, h("label", { for: `f-${key}` }, label), inputs[key])),
      h("div", {}, h("label", { for: "f-status" }, "Status"), status)),
    h("button", { type: "submit", class: "primary" }, "Search"));
  main.append(form, found);
  search().catch((e) => announce(`Payments could not be read: ${e.message}`, "error"));
}
