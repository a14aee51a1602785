// A payout investigation: what happened to one payout and what funded it, oldest credit first, down to the
// payment and the settlement's bank reference, so a rupee can be followed from the client to the freelancer's bank.

import { gql } from "./api.js";
import { announce, h, money, short, when } from "./ui.js";

const INVESTIGATE = `query($id: UUID!) { payoutInvestigation(id: $id) {
  payout { id freelancerId amount currency status createdAt decidedAt decisionNote cfTransferId transferStatus failureReason }
  fundedBy { amount settlementUtr credit { createdAt amount } payment { orderId cfPaymentId bankReference paidAt } }
  auditEntries { createdAt action actorRole reason }
  notifications { createdAt title delivery { status } }
} }`;

export function render(main) {
  const id = h("input", { id: "i-id", autocomplete: "off", placeholder: "payout request id (UUID)", value: location.hash.split("/")[2] ?? "" });
  const out = h("div", {});
  const load = async () => {
    const wanted = id.value.trim();
    if (!wanted) return;
    if (location.hash !== `#/investigation/${wanted}`) history.replaceState(null, "", `#/investigation/${wanted}`);
    const { payoutInvestigation: inv } = await gql(INVESTIGATE, { id: wanted });
    if (!inv) return out.replaceChildren(h("p", { class: "empty" }, `No payout request ${wanted}.`));
    const p = inv.payout;
    const m = (a) => money(a, p.currency);
    out.replaceChildren(
      h("dl", { class: "figures" },
        h("dt", {}, "Payout"), h("dd", {}, `${m(p.amount)}, ${p.status.toLowerCase()}`),
        h("dt", {}, "Freelancer"), h("dd", {}, h("a", { href: `#/wallets/${p.freelancerId}` }, short(p.freelancerId))),
        h("dt", {}, "Requested"), h("dd", {}, when(p.createdAt)),
        h("dt", {}, "Decided"), h("dd", {}, p.decidedAt ? `${when(p.decidedAt)}${p.decisionNote ? `: ${p.decisionNote}` : ""}` : "not yet"),
        h("dt", {}, "Transfer"), h("dd", {}, p.cfTransferId ? `${p.cfTransferId} ${p.transferStatus ?? ""}` : "none",
          p.failureReason ? h("p", { class: "why" }, p.failureReason) : null)),
      h("h2", {}, "Funded by, oldest credit first"),
      inv.fundedBy.length ? h("ol", { class: "funding" }, inv.fundedBy.map((f) => h("li", {},
        `${m(f.amount)} of a ${m(f.credit.amount)} credit on ${when(f.credit.createdAt)}`,
        f.payment ? ` from order ${f.payment.orderId} (Cashfree ${f.payment.cfPaymentId ?? "—"}, paid ${when(f.payment.paidAt)})` : "",
        f.settlementUtr ? `, settled to the bank as UTR ${f.settlementUtr}` : ", not yet settled"))) : h("p", { class: "empty" }, "Nothing yet: the payout has not been approved."),
      h("h2", {}, "Audit trail"),
      h("ul", { class: "plain" }, inv.auditEntries.map((e) => h("li", {}, `${when(e.createdAt)}: ${e.action} by ${e.actorRole.toLowerCase()}${e.reason ? ` (${e.reason})` : ""}`))),
      h("h2", {}, "Notifications"),
      h("ul", { class: "plain" }, inv.notifications.map((n) => h("li", {}, `${when(n.createdAt)}: ${n.title} (${n.delivery.status.toLowerCase()})`))),
    );
  };
  main.append(h("form", { class: "toolbar", onsubmit: (e) => {
    e.preventDefault();
    load().catch((err) => announce(`The investigation failed: ${err.message}`, "error"));
  } }, h("label", { for: "i-id" }, "Payout"), id, h("button", { type: "submit", class: "primary" }, "Investigate")), out);
  load().catch((e) => announce(`The investigation failed: ${e.message}`, "error"));
}
