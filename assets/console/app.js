// The console's shell: sign-in by pasting a token, the pages the signed-in role may open, the live alert feed and its
// badge, and a hash router (`#/queue`, `#/alerts`, …) that gives each page the main area until the next one.

import { ApiError, gql, session, subscribe } from "./api.js";
import { announce, h } from "./ui.js";

/// The pages, in the order the navigation shows them, with the roles that see them.
const PAGES = [
  { path: "queue", title: "Payout queue", roles: ["ADMIN", "OPS"], load: () => import("./queue.js") },
  { path: "wallets", title: "Wallets", roles: ["ADMIN", "OPS"], load: () => import("./wallets.js") },
  { path: "payments", title: "Payments", roles: ["ADMIN", "OPS"], load: () => import("./payments.js") },
  { path: "webhooks", title: "Webhook log", roles: ["ADMIN", "OPS"], load: () => import("./webhooks.js") },
  { path: "alerts", title: "Alerts", roles: ["ADMIN", "OPS"], load: () => import("./alerts.js") },
  { path: "controls", title: "Emergency controls", roles: ["ADMIN", "OPS"], load: () => import("./controls.js") },
  { path: "notifications", title: "Notifications", roles: ["ADMIN", "OPS"], load: () => import("./notifications.js") },
  { path: "investigation", title: "Investigate a payout", roles: ["ADMIN", "OPS"], load: () => import("./investigation.js") },
  { path: "reports", title: "Reports", roles: ["ADMIN", "OPS"], load: () => import("./reports.js") },
  { path: "audit", title: "Audit log", roles: ["ADMIN", "OPS"], load: () => import("./audit.js") },
  { path: "wallet", title: "My wallet", roles: ["FREELANCER"], load: () => import("./wallet.js") },
];

const ALERT_FIELDS = "cursor id severity kind message createdAt payoutRequestId paymentId webhookId";

/// Alerts as they arrive, for every page (the alerts page lists them; the badge counts those not yet seen).
export const alertFeed = new EventTarget();
let unseen = 0;
let leave = null;

async function start() {
  const back = new URLSearchParams(location.search);
  if (back.has("code") || back.has("error")) {
    try {
      await finishProviderSignIn(back);
    } catch (e) {
      return signIn(e.message);
    }
  }
  if (!session.token) return signIn();
  let viewer;
  try {
    viewer = (await gql("{ me { id role } }")).me;
  } catch (e) {
    session.token = null;
    return signIn(e instanceof ApiError ? e.message : String(e));
  }
  const pages = PAGES.filter((p) => p.roles.includes(viewer.role));
  const badge = h("span", { class: "badge", hidden: true, "aria-label": "new alerts" });
  document.getElementById("nav").replaceChildren(
    ...pages.map((p) => h("a", { href: `#/${p.path}`, "data-page": p.path }, p.title, p.path === "alerts" ? badge : null)),
  );
  document.getElementById("who").replaceChildren(
    h("span", { class: `role role-${viewer.role.toLowerCase()}` }, viewer.role.toLowerCase()),
    h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"),
  );
  if (viewer.role !== "FREELANCER") feedAlerts(badge);
  const ctx = { viewer, admin: viewer.role === "ADMIN", alertFeed, seen: () => showBadge(badge, (unseen = 0)) };
  const route = async () => {
    const wanted = location.hash.replace(/^#\/?/, "").split("/")[0];
    const page = pages.find((p) => p.path === wanted) ?? pages[0];
    if (page.path !== wanted) history.replaceState(null, "", `#/${page.path}`);
    for (const link of document.querySelectorAll("#nav a")) {
      if (link.dataset.page === page.path) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    leave?.();
    const main = document.getElementById("main");
    main.replaceChildren(h("h1", {}, page.title));
    document.title = `${page.title} · paydesk`;
    const module = await page.load();
    leave = module.render(main, ctx) ?? null;
  };
  window.addEventListener("hashchange", route);
  await route();
}

/// One subscription for the whole console: it starts after the newest stored alert (after the log's start if there
/// is none) and, when the socket comes back, resumes after the last alert it saw, so none raised meanwhile is lost.
async function feedAlerts(badge) {
  let last = null;
  try {
    last = (await gql("{ alerts(first: 1) { nodes { cursor } } }")).alerts.nodes[0]?.cursor ?? "0";
  } catch {
    // Unread, the feed starts live and resumes from the first alert it sees.
  }
  const state = h("span", { class: "live", title: "alerts connection" }, "");
  document.getElementById("who").prepend(state);
  subscribe(`subscription($after: String) { alerts(after: $after) { ${ALERT_FIELDS} } }`, () => ({ after: last }), {
    next: ({ alerts }) => {
      last = alerts.cursor;
      alertFeed.dispatchEvent(new CustomEvent("alert", { detail: alerts }));
      if (!location.hash.startsWith("#/alerts")) showBadge(badge, ++unseen);
    },
    status: (now, why) => {
      state.textContent = { live: "● live", connecting: "○ connecting", reconnecting: "○ reconnecting…" }[now] ?? "✕ off";
      state.className = `live ${now}`;
      alertFeed.dispatchEvent(new CustomEvent("status", { detail: { now, why } }));
      if (now === "refused") announce(`Live alerts stopped: ${why}`, "error");
    },
  });
}

function showBadge(badge, count) {
  badge.hidden = count === 0;
  badge.textContent = count > 99 ? "99+" : String(count);
}

function signIn(problem) {
  document.getElementById("nav").replaceChildren();
  document.getElementById("who").replaceChildren();
  const token = h("textarea", { id: "token", rows: 4, required: true, autocomplete: "off", spellcheck: "false" });
  const provider = h("div", { class: "provider" });
  const form = h(
    "form",
    { class: "card signin", onsubmit: (e) => {
      e.preventDefault();
      session.token = token.value.trim().replace(/^Bearer\s+/i, "");
      start();
    } },
    h("h1", {}, "Sign in"),
    provider,
    h("p", {}, "Paste a bearer token (a paydesk token, or one from your identity provider)."),
    h("label", { for: "token" }, "Token"),
    token,
    problem ? h("p", { class: "note error", role: "alert" }, problem) : null,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  document.getElementById("main").replaceChildren(form);
  token.focus();
  signInConfig().then((config) => {
    if (!config) return;
    const go = () => providerSignIn(config).catch((e) => signIn(`The sign-in could not start: ${e.message}`));
    provider.replaceChildren(
      h("button", { type: "button", class: "primary", onclick: go }, `Sign in at ${new URL(config.issuer).host}`),
      h("p", { class: "muted" }, "Or:"),
    );
  });
}

/// How this console signs in at the identity provider, if it does (`/console/config.json`).
async function signInConfig() {
  try {
    return (await (await fetch("/console/config.json")).json()).signIn;
  } catch {
    return null;
  }
}

const PKCE = "paydesk.pkce";
const redirectUri = () => `${location.origin}/console`;
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/// Sign-in at the identity provider: the authorization code flow with PKCE (S256); the verifier and state stay in
/// this tab until the provider sends the browser back.
async function providerSignIn(config) {
  const found = await fetch(`${config.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  const discovery = await found.json();
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state, tokenEndpoint: discovery.token_endpoint, clientId: config.clientId }));
  const query = new URLSearchParams({
    response_type: "code", client_id: config.clientId, redirect_uri: redirectUri(), scope: config.scope, state,
    code_challenge: b64url(new Uint8Array(digest)), code_challenge_method: "S256",
  });
  location.assign(`${discovery.authorization_endpoint}?${query}`);
}

/// Back from the identity provider: the code exchanged for a token, if the state is the one this tab sent.
async function finishProviderSignIn(back) {
  const saved = JSON.parse(sessionStorage.getItem(PKCE) ?? "null");
  sessionStorage.removeItem(PKCE);
  history.replaceState(null, "", "/console#/");
  if (back.has("error")) throw new Error(`The identity provider said: ${back.get("error_description") ?? back.get("error")}`);
  if (!saved || saved.state !== back.get("state")) throw new Error("The sign-in came back with a state this tab did not send: start again.");
  const answer = await fetch(saved.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: back.get("code"), redirect_uri: redirectUri(),
      client_id: saved.clientId, code_verifier: saved.verifier }),
  });
  const body = await answer.json().catch(() => ({}));
  if (!body.access_token) throw new Error(`The identity provider refused the sign-in: ${body.error_description ?? body.error ?? answer.status}`);
  session.token = body.access_token;
}

function signOut() {
  session.token = null;
  location.hash = "";
  location.reload();
}

start();
