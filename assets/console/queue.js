// The payout queue, as the admin guide reviews it: pending requests oldest first, each with what the wallet keeps
// after it, its risk flags, why it cannot be approved and where its two approvals stand; approve or reject one
// (saying what will happen first), or select several and approve them at once. Ops see the same, read-only.

import { gql } from "./api.js";
import { announce, confirmAction, h, minus, money, once, pages, settle, short, showMore, when } from "./ui.js";

const QUEUE = `query Queue($after: String) {
  payoutRequests(first: 50, after: $after, filter: { status: [PENDING] }, orderBy: { field: CREATED_AT, direction: ASC }) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id freelancerId amount currency note createdAt approvable notApprovableReason approvalsNeeded firstApprovedBy
      riskFlags { rule reason }
      wallet { balance reserve available }
    }
  }
}`;
const APPROVE = `mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { id status } }`;
const REJECT = `mutation($i: RejectPayoutInput!) { rejectPayout(input: $i) { id status } }`;
const APPROVE_MANY = `mutation($i: ApprovePayoutsInput!) {
  approvePayouts(input: $i) { batchId results { payoutRequestId payout { status } refusal { code message } } }
}`;

export function render(main, { admin }) {
  const selected = new Set();
  const list = h("div", { class: "queue" });
  const results = h("section", { class: "results", "aria-label": "Bulk approval results", hidden: true });
  const bulk = h("button", { type: "button", class: "primary", disabled: true }, "Approve selected");
  const total = h("p", { class: "muted" });
  const queue = pages(async (after) => (await gql(QUEUE, { after })).payoutRequests);

  const load = async (more = false) => {
    if (!more) selected.clear();
    await queue.load(more);
    total.textContent = `${queue.total} pending, oldest first.`;
    draw();
  };

  const draw = () => {
    bulk.disabled = selected.size === 0;
    bulk.textContent = selected.size ? `Approve selected (${selected.size})` : "Approve selected";
    if (!queue.rows.length) return list.replaceChildren(h("p", { class: "empty" }, "No payout is waiting."));
    list.replaceChildren(
      h("table", {},
        h("thead", {}, h("tr", {},
          admin ? h("th", { scope: "col" }, h("span", { class: "sr" }, "Select")) : null,
          ["Requested", "Freelancer", "Amount", "Wallet after", "Checks", admin ? "Decide" : null]
            .filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, queue.rows.map(row)),
      ),
    );
    if (queue.more) list.append(showMore(load));
  };

  const row = (p) => {
    const left = p.wallet ? minus(p.wallet.balance, p.amount) : null;
    const checks = [
      p.riskFlags.map((f) => h("span", { class: "flag", title: f.reason }, f.rule.toLowerCase().replaceAll("_", " "))),
      p.approvalsNeeded > 1
        ? h("span", { class: "chip" }, p.firstApprovedBy ? "1 of 2 approvals" : "needs 2 approvals")
        : null,
      p.approvable ? null : h("p", { class: "why" }, p.notApprovableReason),
    ];
    return h("tr", { "data-id": p.id },
      admin ? h("td", {}, h("input", {
        type: "checkbox",
        "aria-label": `Select the payout of ${money(p.amount, p.currency)} to ${p.freelancerId.slice(0, 8)}`,
        checked: selected.has(p.id),
        onchange: (e) => {
          if (e.target.checked) selected.add(p.id);
          else selected.delete(p.id);
          draw();
        },
      })) : null,
      h("td", { "data-label": "Requested" }, when(p.createdAt)),
      h("td", { "data-label": "Freelancer" }, h("a", { href: `#/wallets/${p.freelancerId}`, class: "wallet" }, short(p.freelancerId))),
      h("td", { "data-label": "Amount", class: "num" }, money(p.amount, p.currency)),
      h("td", { "data-label": "Wallet after", class: "num" },
        left === null ? "—" : [money(left, p.currency), h("small", {}, ` reserve ${money(p.wallet.reserve, p.currency)}`)]),
      h("td", { "data-label": "Checks" }, checks),
      admin ? h("td", { class: "decide" },
        h("button", { type: "button", class: "primary", onclick: (e) => once(e.target, () => approve(p, left)) }, "Approve"),
        h("button", { type: "button", class: "danger", onclick: (e) => once(e.target, () => reject(p)) }, "Reject"),
      ) : null,
    );
  };

  const approve = async (p, left) => {
    const note = await confirmAction({
      title: `Approve ${money(p.amount, p.currency)}?`,
      lines: [
        `To freelancer ${p.freelancerId}.`,
        left === null ? "" : `The wallet goes from ${money(p.wallet.balance, p.currency)} to ${money(left, p.currency)}; its reserve is ${money(p.wallet.reserve, p.currency)}.`,
      ],
      action: "Approve payout",
      reason: "Note for the audit trail (optional)",
      optional: true,
    });
    if (note === null) return;
    await settle(() => gql(APPROVE, { i: { payoutRequestId: p.id, note: note || null } }),
      (d) => `Approved: the payout is ${d.approvePayout.status.toLowerCase()}.`, load);
  };

  const reject = async (p) => {
    const reason = await confirmAction({
      title: `Reject ${money(p.amount, p.currency)}?`,
      lines: [`The freelancer ${p.freelancerId} is told why; no money moves.`],
      action: "Reject payout",
      reason: "Reason (shown to the freelancer)",
    });
    if (reason === null) return;
    await settle(() => gql(REJECT, { i: { payoutRequestId: p.id, reason } }), () => "Rejected.", load);
  };

  const approveSelected = async () => {
    const chosen = queue.rows.filter((r) => selected.has(r.id));
    const sums = {};
    for (const r of chosen) sums[r.currency] = sums[r.currency] ? addUp(sums[r.currency], r.amount) : r.amount;
    const note = await confirmAction({
      title: `Approve ${chosen.length} payouts?`,
      lines: [
        `In all ${Object.entries(sums).map(([c, a]) => money(a, c)).join(" and ")}.`,
        "Each is approved on its own under the usual checks; a refusal stops none of the others.",
      ],
      action: `Approve ${chosen.length} payouts`,
      reason: "Note for the audit trail (optional)",
      optional: true,
    });
    if (note === null) return;
    await settle(async () => {
      const { approvePayouts } = await gql(APPROVE_MANY, { i: { ids: chosen.map((r) => r.id), note: note || null } });
      const byId = Object.fromEntries(chosen.map((r) => [r.id, r]));
      const refused = approvePayouts.results.filter((r) => r.refusal);
      results.hidden = false;
      results.replaceChildren(
        h("h2", {}, `${approvePayouts.results.length - refused.length} approved, ${refused.length} refused`),
        h("ul", {}, approvePayouts.results.map((r) => {
          const p = byId[r.payoutRequestId];
          const what = p ? money(p.amount, p.currency) : r.payoutRequestId;
          return h("li", { class: r.refusal ? "refused" : "approved" },
            r.refusal ? `${what}: refused, ${r.refusal.message}` : `${what}: ${r.payout.status.toLowerCase()}`);
        })),
      );
    }, () => "Bulk approval done: the results are listed below the queue.", load);
  };

  bulk.addEventListener("click", () => once(bulk, approveSelected));
  main.append(
    h("div", { class: "toolbar" }, total, admin ? bulk : h("p", { class: "muted" }, "Read-only: only admins decide payouts."),
      h("button", { type: "button", onclick: (e) => once(e.target, () => load()) }, "Refresh")),
    list,
    results,
  );
  load().catch((e) => announce(`The queue could not be read: ${e.message}`, "error"));
}

/// `a + b` for two decimal strings, exactly.
function addUp(a, b) {
  return minus(a, minus("0", b));
}
