// Drives the console in Debian's headless Chromium (playwright-core, no downloaded browser) as an admin, an ops
// person and a freelancer would, and prints one JSON report of what they saw for the Rust test that set up the
// server and its data (tests/api/operations/console.rs). Accessibility is checked with axe-core in the same browser.
//
//   node console.mjs '{"url": …, "admin": TOKEN, "ops": TOKEN, "freelancer": TOKEN, "shots": DIR, "payouts": {…},
//                      "webhookSecret": …}'

import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import net from "node:net";

const input = JSON.parse(process.argv[2]);
const { url, payouts, shots } = input;
const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const report = { consoleErrors: [], axe: {} };
// Generous: under a loaded CI machine a page may take seconds to answer; a step that never comes still fails.
const timeout = 20000;

/// A signed-in page at `width` px; console errors (a Content-Security-Policy refusal among them) are collected.
async function signedIn(token, width, options = {}) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  if (!options.bypassCSP) {
    page.on("console", (m) => m.type() === "error" && report.consoleErrors.push(m.text()));
    page.on("pageerror", (e) => report.consoleErrors.push(String(e)));
  }
  await page.goto(`${url}/console`);
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForSelector("#nav a");
  return { context, page };
}

/// A TCP proxy to the server that can cut every connection through it and refuse new ones until restored: the
/// network between a browser and paydesk going away and coming back.
async function proxy(target) {
  const { hostname, port } = new URL(target);
  const open = new Set();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return client.destroy();
    const upstream = net.connect(Number(port), hostname);
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", drop).on("close", drop).pipe(upstream);
    upstream.on("error", drop).on("close", drop).pipe(client);
  });
  await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      cut = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      cut = false;
    },
    close() {
      this.cut();
      server.close();
    },
  };
}

/// Sends Cashfree's webhook route a delivery with a forged signature, which raises a `signature_rejected` alert: each
/// from an address of its own (the server trusts one proxy hop), as an alert is raised once a burst per address.
let forged = 0;
const forge = () => fetch(`${url}/api/webhooks/cashfree`, {
  method: "POST",
  headers: { "content-type": "application/json", "x-webhook-signature": "forged",
    "x-webhook-timestamp": String(Math.floor(Date.now() / 1000)), "x-forwarded-for": `10.7.0.${++forged}` },
  body: JSON.stringify({ type: "PAYMENT_SUCCESS_WEBHOOK", data: {} }),
});

/// The serious and critical accessibility violations axe-core finds on `page` as it stands.
async function axe(page) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

const row = (page, id) => page.locator(`tr[data-id="${id}"]`);
/// What the status line says after an action: "ok: …" or "error: …".
const said = async (page) => {
  const note = await page.waitForSelector("#status .note");
  return `${(await note.getAttribute("class")).replace("note ", "")}: ${await note.textContent()}`;
};

try {
  // What the first screen weighs over the wire: the sign-in page, then the queue once signed in.
  {
    const context = await browser.newContext({ viewport: { width: 390, height: 800 } });
    const page = await context.newPage();
    let bytes = 0;
    page.on("response", async (r) => {
      try {
        bytes += (await r.body()).length + JSON.stringify(await r.allHeaders()).length;
      } catch {}
    });
    await page.goto(`${url}/console`, { waitUntil: "networkidle" });
    await page.fill("#token", input.admin);
    await page.click("button[type=submit]");
    await page.waitForSelector("table tbody tr");
    await page.waitForLoadState("networkidle");
    report.firstScreenBytes = bytes;
    const csp = await (await context.request.get(`${url}/console`)).headers();
    report.csp = csp["content-security-policy"];
    await context.close();
  }

  // An admin at a desk: the queue, one approval, one rejection, a bulk approval with one refusal.
  const admin = await signedIn(input.admin, 1440);
  let page = admin.page;
  await page.waitForSelector("table tbody tr");
  report.queueRows = await page.locator("table tbody tr").count();
  report.queueText = await page.locator("main").innerText();
  await page.screenshot({ path: `${shots}/queue-1440.png`, fullPage: true });

  await row(page, payouts.approve).getByRole("button", { name: "Approve" }).click();
  report.approveDialog = await page.locator("dialog").innerText();
  await page.getByRole("button", { name: "Approve payout" }).click();
  report.approved = await said(page);

  await row(page, payouts.reject).getByRole("button", { name: "Reject" }).click();
  await page.getByRole("button", { name: "Reject payout" }).click();
  report.rejectWithoutReason = await page.locator("dialog .note.error").innerText();
  await page.fill("dialog textarea", "Duplicate request");
  await page.getByRole("button", { name: "Reject payout" }).click();
  report.rejected = await said(page);

  await page.waitForSelector(`tr[data-id="${payouts.bulkOk}"]`);
  await row(page, payouts.bulkOk).locator("input[type=checkbox]").check();
  await row(page, payouts.bulkHeld).locator("input[type=checkbox]").check();
  await page.getByRole("button", { name: "Approve selected (2)" }).click();
  report.bulkDialog = await page.locator("dialog").innerText();
  await page.getByRole("button", { name: "Approve 2 payouts" }).click();
  await page.waitForSelector(".results:not([hidden]) li");
  report.bulkResults = await page.locator(".results li").allInnerTexts();

  // Freeze every payout, then try to approve one: refused, with the reason.
  await page.click('#nav a[data-page="controls"]');
  await page.getByRole("button", { name: "Freeze all payouts" }).click();
  await page.fill("dialog textarea", "Bank incident");
  await page.getByRole("button", { name: "Freeze payouts" }).click();
  report.frozen = await page.locator(".hold.freeze").innerText();
  await page.click('#nav a[data-page="queue"]');
  await row(page, payouts.frozen).getByRole("button", { name: "Approve" }).click();
  await page.getByRole("button", { name: "Approve payout" }).click();
  report.approveWhileFrozen = await said(page);

  // Alerts arrive live: a webhook with a forged signature raises one while the page is open.
  await page.click('#nav a[data-page="alerts"]');
  await page.waitForSelector(".live.live");
  await page.waitForSelector(".alerts[data-loaded]");
  report.forgedStatus = (await forge()).status;
  report.liveAlert = await (await page.waitForSelector('.alert.fresh[data-kind="signature_rejected"]')).innerText();

  // The incident is over: the freeze is lifted, again with a reason.
  await page.click('#nav a[data-page="controls"]');
  await page.locator(".hold.freeze").getByRole("button", { name: "Release" }).click();
  await page.fill("dialog textarea", "Incident over");
  await page.getByRole("button", { name: "Release", exact: true }).last().click();
  report.released = await said(page);
  report.holdsAfter = await page.locator(".holds").innerText();

  // A wallet opened from the queue: the held freelancer's, released from its own page.
  await page.click('#nav a[data-page="queue"]');
  await row(page, payouts.bulkHeld).locator("a.wallet").click();
  await page.waitForSelector(".figures");
  report.heldWallet = await page.locator("main").innerText();
  await page.getByRole("button", { name: "Release payouts" }).click();
  await page.fill("dialog textarea", "KYC done");
  await page.getByRole("button", { name: "Release", exact: true }).last().click();
  report.walletReleased = await said(page);
  await page.waitForSelector("text=Not held.");

  // Payments: found by order id; a pending one verified by hand, which credits the wallet.
  await page.click('#nav a[data-page="payments"]');
  await page.waitForSelector(".found .muted");
  await page.fill("#f-orderId", input.pendingOrder);
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForFunction(() => document.querySelector(".found .muted")?.textContent === "1 found.");
  await page.locator(".found tbody tr").getByRole("button", { name: "Verify" }).click();
  report.verifyDialog = await page.locator("dialog").innerText();
  await page.fill("dialog textarea", "The bank statement shows the credit");
  await page.getByRole("button", { name: "Verify payment" }).click();
  report.verified = await said(page);

  // The webhook log: the forged delivery, its raw body pretty-printed.
  await page.click('#nav a[data-page="webhooks"]');
  await page.selectOption("#w-outcome", "REJECTED_SIGNATURE");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForFunction(() => document.querySelector("#main .muted")?.textContent.startsWith("1 "));
  await page.locator(".deliveries summary").first().click();
  report.forgedDelivery = await page.locator(".deliveries li").first().innerText();
  report.forgedBody = await page.locator(".deliveries pre").first().innerText();

  // Reports: the charts drawn for the last two weeks, and the same figures downloaded as CSV.
  await page.click('#nav a[data-page="reports"]');
  await page.waitForSelector(".reports .chart");
  report.charts = await page.locator(".reports svg.chart").count();
  report.feeBars = await page.locator(".reports section").nth(1).locator("rect.series").count();
  report.successRate = await page.locator(".reports section").first().locator("details table").textContent();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
  const chunks = [];
  for await (const chunk of await download.createReadStream()) chunks.push(chunk);
  report.csv = Buffer.concat(chunks).toString("utf8");
  report.csvName = download.suggestedFilename();
  await page.screenshot({ path: `${shots}/reports-1440.png`, fullPage: true });

  // Notifications with their delivery, a payout investigated, and the audit log filtered by action.
  await page.click('#nav a[data-page="notifications"]');
  await page.waitForSelector("#main tbody tr");
  report.notifications = await page.locator("#main tbody tr").first().innerText();
  await page.evaluate((id) => { location.hash = `#/investigation/${id}`; }, payouts.approve);
  await page.waitForSelector(".figures");
  await page.waitForSelector(".funding li");
  report.investigation = await page.locator("main").innerText();
  await page.click('#nav a[data-page="audit"]');
  await page.waitForSelector(".entries li");
  await page.fill("#a-action", "payout.approved");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForFunction(() => [...document.querySelectorAll(".entries li")].every((li) => li.dataset.action === "payout.approved"));
  report.approvals = await page.locator(".entries li").count();
  await admin.context.close();

  // The network goes away under an open alerts page and comes back: the page says so, and the alert raised while
  // it was away arrives once the console has reconnected, after the last one it had seen.
  const line = await proxy(url);
  const watcher = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const watch = await watcher.newPage();
  watch.setDefaultTimeout(timeout);
  watch.on("console", (m) => m.type() === "error" && !/ERR_CONNECTION|WebSocket/.test(m.text()) && report.consoleErrors.push(m.text()));
  await watch.goto(`${line.url}/console#/alerts`);
  await watch.fill("#token", input.admin);
  await watch.click("button[type=submit]");
  await watch.waitForSelector(".live.live");
  await watch.waitForSelector(".alerts[data-loaded]");
  const before = await watch.locator(".alert").count();
  line.cut();
  await watch.waitForSelector(".live.reconnecting");
  report.whileCut = await watch.locator("#main .toolbar").innerText();
  report.forgedWhileCut = (await forge()).status;
  await new Promise((wait) => setTimeout(wait, 1000));
  report.alertsWhileCut = (await watch.locator(".alert").count()) - before;
  line.restore();
  await watch.waitForSelector(".live.live", { timeout: 20000 });
  await watch.waitForFunction((n) => document.querySelectorAll(".alert").length > n, before, { timeout: 20000 });
  report.alertsAfterRestore = (await watch.locator(".alert").count()) - before;
  report.missedAlert = await watch.locator(".alert.fresh").first().innerText();
  await watcher.close();
  line.close();

  // Reports on a phone.
  const phone = await signedIn(input.ops, 390);
  await phone.page.goto(`${url}/console#/reports`);
  await phone.page.waitForSelector(".reports .chart");
  await phone.page.screenshot({ path: `${shots}/reports-390.png`, fullPage: true });
  await phone.context.close();

  // Ops on a phone: the same queue, nothing to press.
  const ops = await signedIn(input.ops, 390);
  await ops.page.waitForSelector("table tbody tr, .empty");
  report.opsApproveButtons = await ops.page.getByRole("button", { name: "Approve" }).count();
  report.opsNote = await ops.page.locator(".toolbar").innerText();
  await ops.page.screenshot({ path: `${shots}/queue-390.png`, fullPage: true });
  await ops.context.close();

  // A freelancer on a phone: their wallet only, and a payout request.
  const freelancer = await signedIn(input.freelancer, 390);
  page = freelancer.page;
  report.freelancerNav = await page.locator("#nav").innerText();
  await page.waitForSelector(".figures");
  await page.fill("#amount", "50.00");
  await page.getByRole("button", { name: "Request", exact: true }).click();
  report.requestDialog = await page.locator("dialog").innerText();
  await page.getByRole("button", { name: "Request payout" }).click();
  report.requested = await said(page);
  await page.screenshot({ path: `${shots}/wallet-390.png`, fullPage: true });
  await freelancer.context.close();

  // Accessibility of each page as its reader sees it (axe-core is injected, so the page's policy is bypassed here).
  for (const [name, token, hash, ready] of [
    ["signIn", null, "", "#token"],
    ["queue", input.admin, "#/queue", "table tbody tr, .empty"],
    ["alerts", input.admin, "#/alerts", ".alerts li"],
    ["controls", input.admin, "#/controls", ".holds li, .holds .empty"],
    ["wallets", input.admin, `#/wallets/${input.heldWallet}`, ".figures"],
    ["payments", input.admin, "#/payments", ".found table"],
    ["webhooks", input.admin, "#/webhooks", ".deliveries li"],
    ["reports", input.admin, "#/reports", ".reports .chart"],
    ["notifications", input.admin, "#/notifications", "#main tbody tr"],
    ["investigation", input.admin, `#/investigation/${payouts.approve}`, ".funding li"],
    ["audit", input.admin, "#/audit", ".entries li"],
    ["wallet", input.freelancer, "#/wallet", ".figures"],
  ]) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
    const p = await context.newPage();
    p.setDefaultTimeout(timeout);
    await p.goto(`${url}/console${hash}`);
    if (token) {
      await p.fill("#token", token);
      await p.click("button[type=submit]");
    }
    await p.waitForSelector(ready);
    report.axe[name] = await axe(p);
    await p.screenshot({ path: `${shots}/${name}-1440.png`, fullPage: true });
    await context.close();
  }
} catch (e) {
  report.failure = String(e.stack ?? e);
} finally {
  await browser.close();
}
// Printed whole before the process ends (a connection left open anywhere must not keep the test waiting).
process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
