// A wallet as an investigation needs it: balances (pending and available), the ledger page by page, its payouts and
// payments, the beneficiary (masked, as stored), and holding or releasing its payouts (admin, with a reason).
// Opened by freelancer id (`#/wallets/<id>`), or found from the list.

import { gql } from "./api.js";
import { announce, confirmAction, h, money, once, settle, short, when } from "./ui.js";

const LIST = `query($f: WalletFilter) { wallets(filter: $f, first: 25, orderBy: { field: AMOUNT, direction: DESC }) {
  nodes { freelancerId currency balance available } } }`;
const WALLET = `query($id: UUID!, $after: String) {
  wallet(freelancerId: $id) {
    freelancerId currency balance reserve available pendingBalance availableBalance pendingPayouts fundsHold
    ledger(first: 20, after: $after) { pageInfo { hasNextPage endCursor }
      nodes { createdAt kind amount balanceAfter description availableAt } }
    payoutRequests(first: 10) { id amount status createdAt }
    payments(first: 10) { orderId amount status paidAt }
  }
  beneficiary(freelancerId: $id) { kind name masked }
  payoutHolds { freelancerId reason placedAt }
}`;
const HOLD = `mutation($i: PayoutHoldInput!) { holdPayouts(input: $i) { reason } }`;
const RELEASE = `mutation($i: PayoutHoldInput!) { releasePayouts(input: $i) { reason } }`;

export function render(main, ctx) {
  const id = location.hash.split("/")[2];
  if (id) return wallet(main, ctx, decodeURIComponent(id));
  const who = h("input", { id: "w-id", autocomplete: "off", placeholder: "freelancer id (UUID)" });
  const list = h("div", {});
  const load = async () => {
    const value = who.value.trim();
    const { wallets } = await gql(LIST, { f: value ? { freelancerId: value } : null });
    list.replaceChildren(wallets.nodes.length
      ? h("ul", { class: "plain wallets" }, wallets.nodes.map((w) => h("li", {},
          h("a", { href: `#/wallets/${w.freelancerId}` }, w.freelancerId), ` ${money(w.balance, w.currency)}`,
          h("small", {}, ` available ${money(w.available, w.currency)}`))))
      : h("p", { class: "empty" }, "No wallet found."));
  };
  main.append(h("form", { class: "toolbar", onsubmit: (e) => {
    e.preventDefault();
    load().catch((err) => announce(err.message, "error"));
  } }, h("label", { for: "w-id" }, "Freelancer"), who, h("button", { type: "submit" }, "Find")), list);
  load().catch((e) => announce(`Wallets could not be read: ${e.message}`, "error"));
}

function wallet(main, { admin }, id) {
  const body = h("div", {});
  let after = null;
  let ledger = [];
  const load = async (more = false) => {
    if (!more) [after, ledger] = [null, []];
    const { wallet: w, beneficiary: b, payoutHolds } = await gql(WALLET, { id, after });
    if (!w) return body.replaceChildren(h("p", { class: "empty" }, `No wallet for ${id}.`));
    ledger = ledger.concat(w.ledger.nodes);
    after = w.ledger.pageInfo.hasNextPage ? w.ledger.pageInfo.endCursor : null;
    const hold = payoutHolds.find((x) => x.freelancerId === id);
    const m = (a) => money(a, w.currency);
    body.replaceChildren(
      h("p", {}, "Freelancer ", short(id)),
      h("dl", { class: "figures" },
        h("dt", {}, "Balance"), h("dd", {}, m(w.balance)),
        h("dt", {}, "Available now"), h("dd", {}, m(w.availableBalance)),
        h("dt", {}, "Pending (held funds)"), h("dd", {}, m(w.pendingBalance)),
        h("dt", {}, "Reserve"), h("dd", {}, m(w.reserve)),
        h("dt", {}, "Asked for, undecided"), h("dd", {}, m(w.pendingPayouts)),
        h("dt", {}, "Can still be requested"), h("dd", {}, m(w.available)),
        h("dt", {}, "Funds hold"), h("dd", {}, w.fundsHold),
        h("dt", {}, "Beneficiary"), h("dd", {}, b ? `${b.name}, ${b.kind} ${b.masked}` : "none registered")),
      h("section", { class: "card", "aria-labelledby": "holds" },
        h("h2", { id: "holds" }, "Payouts of this wallet"),
        hold ? h("p", { class: "why" }, `Held since ${when(hold.placedAt)}: ${hold.reason}`) : h("p", {}, "Not held."),
        admin ? h("button", { type: "button", class: hold ? null : "danger",
          onclick: (e) => once(e.target, () => toggle(hold)) }, hold ? "Release payouts" : "Hold payouts") : null),
      h("h2", {}, "Ledger"),
      h("table", {}, h("thead", {}, h("tr", {}, ["When", "Kind", "Amount", "Balance after", "Description"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, ledger.map((r) => h("tr", {},
          h("td", { "data-label": "When" }, when(r.createdAt)),
          h("td", { "data-label": "Kind" }, r.kind.toLowerCase().replaceAll("_", " ")),
          h("td", { "data-label": "Amount", class: "num" }, m(r.amount), r.availableAt ? h("small", {}, ` available ${when(r.availableAt)}`) : null),
          h("td", { "data-label": "Balance after", class: "num" }, m(r.balanceAfter)),
          h("td", { "data-label": "Description" }, r.description))))),
      after ? h("button", { type: "button", onclick: (e) => once(e.target, () => load(true)) }, "Older entries") : "",
      h("h2", {}, "Payout requests"),
      h("ul", { class: "plain" }, w.payoutRequests.map((p) => h("li", {}, `${when(p.createdAt)}: ${m(p.amount)}, ${p.status.toLowerCase()}`))),
      h("h2", {}, "Payments"),
      h("ul", { class: "plain" }, w.payments.map((p) => h("li", {}, `${p.orderId}: ${m(p.amount)}, ${p.status.toLowerCase()}${p.paidAt ? `, paid ${when(p.paidAt)}` : ""}`))),
    );
  };
  const toggle = async (hold) => {
    const reason = await confirmAction({
      title: hold ? "Release this wallet's payouts?" : "Hold this wallet's payouts?",
      lines: [hold ? "Its payouts may be approved again." : "None of its payouts can be approved until the hold is released."],
      action: hold ? "Release" : "Hold payouts",
      reason: "Reason (kept in the audit trail)",
    });
    if (reason === null) return;
    await settle(() => gql(hold ? RELEASE : HOLD, { i: { freelancerId: id, reason } }),
      () => (hold ? "Released." : "Held."), load);
  };
  main.append(body);
  load().catch((e) => announce(`The wallet could not be read: ${e.message}`, "error"));
}
