// The audit log: every decision and movement of money, who made it and why, filtered by action, subject or actor.

import { gql } from "./api.js";
import { announce, h, once, short, when } from "./ui.js";

const LOG = `query($f: AuditFilter, $after: String) {
  auditLog(filter: $f, first: 25, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id createdAt action actorId actorRole entityType entityId reason before after }
  }
}`;

export function render(main) {
  const fields = {
    action: h("input", { id: "a-action", placeholder: "payout.approved", autocomplete: "off" }),
    entityId: h("input", { id: "a-entity", placeholder: "subject id (UUID)", autocomplete: "off" }),
    actorId: h("input", { id: "a-actor", placeholder: "actor id (UUID)", autocomplete: "off" }),
  };
  const found = h("div", {});
  let after = null;
  let rows = [];
  const load = async (more = false) => {
    if (!more) [after, rows] = [null, []];
    const f = Object.fromEntries(Object.entries(fields).map(([k, i]) => [k, i.value.trim()]).filter(([, v]) => v));
    const { auditLog: page } = await gql(LOG, { f, after });
    rows = rows.concat(page.nodes);
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    found.replaceChildren(h("p", { class: "muted" }, `${page.totalCount} entries, newest first.`),
      h("ul", { class: "plain entries" }, rows.map((e) => h("li", { "data-action": e.action },
        h("details", {},
          h("summary", {}, h("strong", {}, e.action), ` ${when(e.createdAt)} by ${e.actorRole.toLowerCase()} `,
            short(e.actorId), ` on ${e.entityType} `, short(e.entityId), e.reason ? `: ${e.reason}` : ""),
          h("pre", { tabindex: 0, "aria-label": "before and after" },
            JSON.stringify({ before: e.before, after: e.after }, null, 2)))))));
    if (after) found.append(h("button", { type: "button", onclick: (e) => once(e.target, () => load(true)) }, "Show more"));
  };
  main.append(h("form", { class: "card search", onsubmit: (e) => {
    e.preventDefault();
    load().catch((err) => announce(`The audit log could not be read: ${err.message}`, "error"));
  } }, h("div", { class: "grid" },
    h("div", {}, h("label", { for: "a-action" }, "Action"), fields.action),
    h("div", {}, h("label", { for: "a-entity" }, "Subject"), fields.entityId),
    h("div", {}, h("label", { for: "a-actor" }, "Actor"), fields.actorId)),
  h("button", { type: "submit", class: "primary" }, "Filter")), found);
  load().catch((e) => announce(`The audit log could not be read: ${e.message}`, "error"));
}
