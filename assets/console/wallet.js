// A freelancer's own wallet: balance, what is available above the reserve, recent payout requests, and a request for
// a new payout (confirmed first; one idempotency key per request, so a retry or a double click asks only once).

import { gql } from "./api.js";
import { announce, confirmAction, h, minus, money, once, when } from "./ui.js";

const MINE = `{ me { wallet { currency balance reserve available pendingBalance
  payoutRequests(first: 10) { id amount status createdAt decisionNote } } } }`;
const REQUEST = `mutation($i: RequestPayoutInput!) { requestPayout(input: $i) { id status } }`;

export function render(main) {
  const body = h("div", {});
  const load = async () => {
    const { me } = await gql(MINE);
    const w = me.wallet;
    if (!w) return body.replaceChildren(h("p", { class: "empty" }, "You have no wallet yet: it opens with your first payment."));
    const amount = h("input", { id: "amount", inputmode: "decimal", required: true, placeholder: "0.00", autocomplete: "off" });
    let key = null;
    const ask = async () => {
      const value = amount.value.trim();
      if (!/^\d+(\.\d{1,2})?$/.test(value)) return announce("Give the amount in digits, with at most two decimals (1500.00).", "error");
      const ok = await confirmAction({
        title: `Request ${money(value, w.currency)}?`,
        lines: [`Once approved, your balance goes from ${money(w.balance, w.currency)} to ${money(minus(w.balance, value), w.currency)}; ${money(w.reserve, w.currency)} always stays in the wallet.`],
        action: "Request payout",
      });
      if (ok === null) return;
      key ??= crypto.randomUUID();
      try {
        await gql(REQUEST, { i: { amount: value, idempotencyKey: key } });
        key = null;
        announce("Requested: an admin will review it.", "ok");
        await load();
      } catch (e) {
        if (e.code !== "NETWORK") key = null;
        announce(`Refused: ${e.message}`, "error");
      }
    };
    body.replaceChildren(
      h("dl", { class: "figures" },
        h("dt", {}, "Balance"), h("dd", {}, money(w.balance, w.currency)),
        h("dt", {}, "Available to request"), h("dd", {}, money(w.available, w.currency)),
        h("dt", {}, "Reserve"), h("dd", {}, money(w.reserve, w.currency)),
        h("dt", {}, "Not yet available"), h("dd", {}, money(w.pendingBalance, w.currency))),
      h("section", { class: "card", "aria-labelledby": "ask" },
        h("h2", { id: "ask" }, "Request a payout"),
        h("div", { class: "field" }, h("label", { for: "amount" }, `Amount (${w.currency})`), amount,
          h("button", { type: "button", class: "primary", onclick: (e) => once(e.target, ask) }, "Request"))),
      h("h2", {}, "Your payout requests"),
      w.payoutRequests.length
        ? h("ul", { class: "plain" }, w.payoutRequests.map((p) =>
            h("li", {}, `${when(p.createdAt)}: ${money(p.amount, w.currency)}, ${p.status.toLowerCase()}`,
              p.decisionNote ? h("small", {}, ` (${p.decisionNote})`) : null)))
        : h("p", { class: "empty" }, "None yet."),
    );
  };
  main.append(body);
  load().catch((e) => announce(`Your wallet could not be read: ${e.message}`, "error"));
}
