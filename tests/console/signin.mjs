// Signs in to the console at the identity provider, in Debian's headless Chromium: the console's button, the
// provider's login page, back to the console with a token from the code exchange (PKCE). Prints one
// JSON report for tests/api/operations/console.rs.
//
//   node signin.mjs '{"url": …, "login": "admin"}'

import { chromium } from "playwright-core";

const { url, login } = JSON.parse(process.argv[2]);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const report = { consoleErrors: [] };
const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
try {
  page.setDefaultTimeout(10000);
  // The console's own errors (the provider's development pages are not ours to judge).
  page.on("console", (m) => m.type() === "error" && page.url().startsWith(url) && report.consoleErrors.push(m.text()));
  await page.goto(`${url}/console`);
  const button = page.getByRole("button", { name: /^Sign in at / });
  report.button = await button.innerText();
  await button.click();
  await page.waitForSelector('input[name="login"]');
  report.providerPage = new URL(page.url()).origin;
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', "any password");
  await page.click('button[type="submit"]');
  await page.waitForSelector("#nav a");
  report.landed = page.url();
  report.role = await page.locator(".role").innerText();
  report.nav = await page.locator("#nav").innerText();
  await page.waitForSelector("table tbody tr, .empty");
  report.queue = await page.locator("main").innerText();
  report.tokenKept = await page.evaluate(() => Boolean(sessionStorage.getItem("paydesk.token")));
  report.verifierGone = await page.evaluate(() => sessionStorage.getItem("paydesk.pkce") === null);
} catch (e) {
  report.failure = String(e.stack ?? e);
  report.at = page.url();
  report.page = await page.locator("body").innerText().catch(() => "");
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
