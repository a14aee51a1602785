// The audit log: every decision and movement of money, who made it and why, filtered by action, subject or actor.

import { gql } from "./api.js";
import { announce, h, pages, short, showMore, when } from "./ui.js";

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
  const filter = () => Object.fromEntries(Object.entries(fields).map(([k, i]) => [k, i.value.trim()]).filter(([, v]) => v));
  const list = pages(async (after) => (await gql(LOG, { f: filter(), after })).auditLog);
  const load = async (more = false) => {
    await list.load(more);
    found.replaceChildren(h("p", { class: "muted" }, `${list.total} entries, newest first.`),
      h("ul", { class: "plain entries" }, list.rows.map((e) => h("li", { "data-action": e.action },
        h("details", {},
          h("summary", {}, h("strong", {}, e.action), ` ${when(e.createdAt)} by ${e.actorRole.toLowerCase()} `,
            short(e.actorId), ` on ${e.entityType} `, short(e.entityId), e.reason ? `: ${e.reason}` : ""),
          h("pre", { tabindex: 0, "aria-label": "before and after" },
            JSON.stringify({ before: e.before, after: e.after }, null, 2)))))));
    if (list.more) found.append(showMore(load));
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
