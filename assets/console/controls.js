// Emergency controls from the runbook: freeze every payout, or hold one freelancer's, always with a reason; the holds
// in force with who placed them; releasing one, again with a reason. Ops see the holds, read-only.

import { gql } from "./api.js";
import { announce, confirmAction, h, once, settle, short, when } from "./ui.js";

const HOLDS = `{ payoutHolds { freelancerId reason placedBy placedAt } }`;
const HOLD = `mutation($i: PayoutHoldInput!) { holdPayouts(input: $i) { reason } }`;
const RELEASE = `mutation($i: PayoutHoldInput!) { releasePayouts(input: $i) { reason } }`;

export function render(main, { admin }) {
  const holds = h("div", { class: "holds" });
  const load = async () => {
    const { payoutHolds } = await gql(HOLDS);
    if (!payoutHolds.length) return holds.replaceChildren(h("p", { class: "empty" }, "No hold is in force: payouts may be approved."));
    holds.replaceChildren(h("ul", { class: "hold-list" }, payoutHolds.map((hold) =>
      h("li", { class: hold.freelancerId ? "hold" : "hold freeze" },
        h("strong", {}, hold.freelancerId ? ["Wallet held: ", short(hold.freelancerId)] : "All payouts frozen"),
        h("p", {}, hold.reason),
        h("small", {}, `placed ${when(hold.placedAt)} by `, short(hold.placedBy)),
        admin ? h("button", { type: "button", onclick: (e) => once(e.target, () => release(hold)) }, "Release") : null,
      ))));
  };
  const change = (query, input, said) => settle(() => gql(query, { i: input }), () => said, load);
  const release = async (hold) => {
    const reason = await confirmAction({
      title: hold.freelancerId ? "Release this wallet's hold?" : "Lift the freeze on all payouts?",
      lines: ["Payouts it stopped may be approved again."],
      action: "Release",
      reason: "Reason (kept in the audit trail)",
    });
    if (reason !== null) await change(RELEASE, { freelancerId: hold.freelancerId, reason }, "Released.");
  };
  const freeze = async () => {
    const reason = await confirmAction({
      title: "Freeze all payouts?",
      lines: ["No payout can be approved until the freeze is released. Requests still arrive."],
      action: "Freeze payouts",
      reason: "Reason (kept in the audit trail and sent with the alert)",
    });
    if (reason !== null) await change(HOLD, { reason }, "All payouts are frozen.");
  };
  const wallet = h("input", { id: "hold-freelancer", required: true, placeholder: "freelancer id (UUID)", autocomplete: "off" });
  const holdOne = async () => {
    const id = wallet.value.trim();
    if (!/^[0-9a-f-]{36}$/i.test(id)) return announce("Give the freelancer's id, a UUID such as 3f2a…-…", "error");
    const reason = await confirmAction({
      title: "Hold this freelancer's payouts?",
      lines: [`Freelancer ${id}: none of their payouts can be approved until the hold is released.`],
      action: "Hold payouts",
      reason: "Reason (kept in the audit trail and sent with the alert)",
    });
    if (reason !== null) await change(HOLD, { freelancerId: id, reason }, "The freelancer's payouts are held.");
  };
  main.append(
    h("h2", {}, "In force"),
    holds,
    admin
      ? h("section", { class: "card", "aria-labelledby": "act" },
          h("h2", { id: "act" }, "Stop payouts"),
          h("button", { type: "button", class: "danger", onclick: (e) => once(e.target, freeze) }, "Freeze all payouts"),
          h("div", { class: "field" }, h("label", { for: "hold-freelancer" }, "Hold one freelancer's payouts"), wallet,
            h("button", { type: "button", onclick: (e) => once(e.target, holdOne) }, "Hold")))
      : h("p", { class: "muted" }, "Read-only: only admins place or release holds."),
  );
  load().catch((e) => announce(`The holds could not be read: ${e.message}`, "error"));
}
