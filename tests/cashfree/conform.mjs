// Judges a transcript of paydesk talking to Cashfree (our double) by Cashfree's official SDKs: every request paydesk
// sent, every answer and every webhook the double produced, and Cashfree's documented samples as we re-created
// them, must each type-check against the SDK model it stands for (npm `cashfree-pg` 5.1.3 for API 2025-01-01,
// npm `cashfree-payout` 0.0.14 for Payouts 2024-01-01), compiled by TypeScript itself:
//
// - a field the model requires must be there; a field must have the model's type (a number is not a string);
// - a field the model does not know is an error, unless `documented.d.ts` names it with the documentation page
//   that shows Cashfree sending it (the SDKs lag the pages in a few places);
// - null is taken where a value may be: Cashfree's own samples send null for absent values, which the generated
//   models do not say (strictNullChecks is off; everything else is strict).
//
// Usage: node conform.mjs TRANSCRIPT.json. Prints one line per item judged, then a JSON report on the last line;
// exits 1 when anything fails or when a call matches no model.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));

// Which model each call's request and answer stand for, by method and path (first match wins).
const CALLS = [
  [/^POST \/pg\/orders$/, "pg.CreateOrderRequest", "pg.OrderEntity"],
  [/^GET \/pg\/orders\/[^/]+$/, null, "pg.OrderEntity"],
  [/^GET \/pg\/orders\/[^/]+\/payments$/, null, "pg.PaymentEntity[]"],
  [/^POST \/pg\/orders\/[^/]+\/refunds$/, "pg.OrderCreateRefundRequest", "pg.RefundEntity"],
  [/^GET \/pg\/orders\/[^/]+\/refunds\/[^/]+$/, null, "pg.RefundEntity"],
  [/^POST \/pg\/links$/, "pg.CreateLinkRequest", "pg.LinkEntity"],
  [/^GET \/pg\/links\/[^/]+\/orders$/, null, "pg.PaymentLinkOrderEntity[]"],
  [/^POST \/pg\/settlement\/recon$/, "pg.SettlementFetchReconRequest", "pg.SettlementReconEntity"],
  [/^POST \/payout\/beneficiary$/, "payout.CreateBeneficiaryRequest", "payout.Beneficiary"],
  [/^GET \/payout\/beneficiary$/, null, "payout.Beneficiary"],
  [/^POST \/payout\/transfers$/, "payout.CreateTransferRequest", "documented.Transfer"],
  [/^GET \/payout\/transfers$/, null, "documented.Transfer"],
];

// Error answers: the Payment Gateway's by status, Payouts' one shape.
function errorModel(call, status) {
  if (call.includes(" /payout/")) return "payout.ErrorV2";
  return { 400: "pg.BadRequestError", 401: "pg.AuthenticationError", 404: "pg.ApiError404", 409: "pg.ApiError409" }[status]
    ?? "pg.ApiError";
}

// Which model a webhook stands for, by route and type (a documented sample's refund webhook by the page's own).
function webhookModel(route, type, sample = false) {
  if (route === "/api/webhooks/cashfree") {
    if (/^PAYMENT_(SUCCESS|FAILED|USER_DROPPED)_WEBHOOK$/.test(type)) return "pg.PaymentWebhook";
    if (type === "REFUND_STATUS_WEBHOOK") return sample ? "documented.RefundWebhookAsDocumented" : "pg.RefundWebhook";
    if (type.startsWith("SETTLEMENT_")) return "documented.SettlementWebhook";
    if (type.startsWith("DISPUTE_")) return "documented.DisputeWebhook";
  }
  if (route === "/api/webhooks/cashfree/payouts" && type.startsWith("TRANSFER_")) return "documented.TransferWebhook";
  return null;
}

/** The items of a transcript, each `{ name, model, value }` (model null: nothing covers it, which fails). */
function items(transcript) {
  const out = [];
  for (const [i, x] of (transcript.exchanges ?? []).entries()) {
    const path = x.call.split("?")[0];
    const rule = CALLS.find(([re]) => re.test(path));
    const name = `#${i} ${x.call}`;
    if (!rule) {
      out.push({ name, model: null, value: null, why: "paydesk made a call no SDK model covers" });
      continue;
    }
    const [, request, answer] = rule;
    if (x.request !== null && x.request !== undefined) {
      out.push({ name: `${name} request`, model: request ?? null, value: x.request, why: "a body no model takes" });
    }
    // An answer the test told the double to give (a fault) is not Cashfree's; the request before it still is.
    if (x.fault) continue;
    const model = x.status >= 400 ? errorModel(path, x.status) : answer;
    out.push({ name: `${name} answer ${x.status}`, model, value: x.answer });
  }
  for (const [i, w] of (transcript.webhooks ?? []).entries()) {
    out.push({ name: `webhook #${i} ${w.route} ${w.body?.type}`, model: webhookModel(w.route, w.body?.type), value: w.body });
  }
  for (const s of transcript.samples ?? []) {
    out.push({ name: `sample ${s.name}`, model: webhookModel(s.route, s.body?.type, true), value: s.body });
  }
  return out;
}

/** Type-checks every item; returns `[{ name, model, errors }]`. */
function judge(all) {
  const lines = [
    'import type * as pg from "cashfree-pg";',
    'import type * as payout from "cashfree-payout";',
    'import type * as documented from "./documented";',
  ];
  const spans = [];
  for (const [i, item] of all.entries()) {
    if (!item.model) continue;
    const text = `export const item${i}: ${item.model} = ${JSON.stringify(item.value, null, 1) ?? "undefined"};`;
    const start = lines.length;
    lines.push(...text.split("\n"));
    spans.push({ i, start, end: lines.length });
  }
  const file = path.join(here, ".judged.ts");
  fs.writeFileSync(file, lines.join("\n") + "\n");
  const program = ts.createProgram([file], {
    strict: true,
    strictNullChecks: false,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
  });
  const errors = new Map();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
    if (!d.file || path.resolve(d.file.fileName) !== path.resolve(file)) {
      errors.set(-1, [...(errors.get(-1) ?? []), message]);
      continue;
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    const span = spans.find((s) => line >= s.start && line < s.end);
    const key = span ? span.i : -1;
    const near = d.file.text.split("\n")[line]?.trim().slice(0, 120);
    errors.set(key, [...(errors.get(key) ?? []), `${message} (at: ${near})`]);
  }
  fs.rmSync(file, { force: true });
  const judged = all.map((item, i) => ({
    name: item.name,
    model: item.model,
    errors: item.model ? errors.get(i) ?? [] : [`no model: ${item.why ?? "nothing in the SDKs covers it"}`],
  }));
  if (errors.has(-1)) judged.push({ name: "the compilation itself", model: null, errors: errors.get(-1) });
  return judged;
}

const transcript = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const judged = judge(items(transcript));
const failed = judged.filter((j) => j.errors.length > 0);
for (const j of judged) {
  console.log(`${j.errors.length ? "FAIL" : "ok  "} ${j.name} as ${j.model ?? "-"}`);
  for (const e of j.errors) console.log(`       ${e}`);
}
const models = [...new Set(judged.filter((j) => j.model).map((j) => j.model))].sort();
console.log(JSON.stringify({ judged: judged.length, failed: failed.length, models, failures: failed }));
process.exit(failed.length ? 1 : 0);
