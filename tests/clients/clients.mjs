// Runs paydesk's GraphQL API through the clients marketplace frontends use, Apollo Client and urql, configured as
// their documentation says, and prints what each request carried and what each client got back, as one JSON object
// for the Rust test that started the servers (tests/api/surface/clients.rs) to check.
//
//   node clients.mjs manifest                      the Apollo persisted-query manifest of operations/*.graphql
//   node clients.mjs apq URL1 URL2 TOKEN           automatic persisted queries; the second clients talk to URL2
//   node clients.mjs trusted URL TOKEN MANIFEST    operations sent by their manifest ids only

import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { generatePersistedQueryIdsFromManifest } from "@apollo/persisted-query-lists";
import { generatePersistedQueryManifest } from "@apollo/generate-persisted-query-manifest";
import { Client, fetchExchange } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const folder = new URL("./operations/", import.meta.url);
const operations = readdirSync(folder).map((file) => gql(readFileSync(new URL(file, folder), "utf8")));
const operation = (name) => operations.find((doc) => doc.definitions[0].name.value === name);

/// A fetch that remembers what each request carried: its method, whether the document's text went with it, and
/// whether its hash did.
function recording(seen) {
  return async (url, init = {}) => {
    const method = init.method ?? "GET";
    const carried = method === "GET" ? Object.fromEntries(new URL(url).searchParams) : JSON.parse(init.body);
    const extensions = typeof carried.extensions === "string" ? JSON.parse(carried.extensions) : carried.extensions;
    const answer = await fetch(url, init);
    const body = await answer.clone().json();
    seen.push({
      method,
      text: Boolean(carried.query),
      hash: extensions?.persistedQuery?.sha256Hash ?? null,
      codes: (body.errors ?? []).map((e) => e.extensions?.code),
    });
    return answer;
  };
}

function apollo(url, token, persisted, seen) {
  const http = new HttpLink({ uri: `${url}/graphql`, headers: { authorization: `Bearer ${token}` }, fetch: recording(seen) });
  return new ApolloClient({ link: ApolloLink.from([persisted, http]), cache: new InMemoryCache() });
}

function urql(url, token, persisted, seen) {
  return new Client({
    url: `${url}/graphql`,
    fetch: recording(seen),
    fetchOptions: { headers: { authorization: `Bearer ${token}` } },
    exchanges: [persisted, fetchExchange],
    requestPolicy: "network-only",
  });
}

/// Runs `run` and reports its data or error codes with the requests it made.
async function step(run) {
  const seen = [];
  try {
    const data = await run(seen);
    return { data, requests: seen };
  } catch (e) {
    const errors = e.errors ?? e.graphQLErrors ?? [];
    return { error: e.message, codes: errors.map((x) => x.extensions?.code), requests: seen };
  }
}

/// An urql result as data, or thrown as its error.
function settled(result) {
  if (result.error) {
    const e = new Error(result.error.message);
    e.graphQLErrors = result.error.graphQLErrors;
    throw e;
  }
  return result.data;
}

const [command, ...args] = process.argv.slice(2);
const report = {};
if (command === "manifest") {
  const documents = [new URL("./operations/*.graphql", import.meta.url).pathname];
  Object.assign(report, await generatePersistedQueryManifest({ documents }, undefined));
} else if (command === "apq") {
  const [first, second, token] = args;
  const order = (client) => ({ input: { freelancerId: crypto.randomUUID(), amount: "250.00", orderId: `ord_${client}_${Date.now()}` } });
  const apq = () => new PersistedQueryLink({ sha256, useGETForHashedQueries: true });
  report.apolloFirst = await step((seen) =>
    apollo(first, token, apq(), seen).query({ query: operation("PendingPayouts"), variables: { first: 5 } }).then((r) => r.data));
  report.apolloSecond = await step((seen) =>
    apollo(second, token, apq(), seen).query({ query: operation("PendingPayouts"), variables: { first: 5 } }).then((r) => r.data));
  report.apolloMutation = await step((seen) =>
    apollo(first, token, apq(), seen).mutate({ mutation: operation("OpenOrder"), variables: order("apollo") }).then((r) => r.data));
  const persisted = () => persistedExchange({ preferGetForPersistedQueries: true, enableForMutation: true });
  report.urqlFirst = await step(async (seen) =>
    settled(await urql(first, token, persisted(), seen).query(operation("Viewer"), {}).toPromise()));
  report.urqlSecond = await step(async (seen) =>
    settled(await urql(second, token, persisted(), seen).query(operation("Viewer"), {}).toPromise()));
  report.urqlMutation = await step(async (seen) =>
    settled(await urql(first, token, persisted(), seen).mutation(operation("OpenOrder"), order("urql")).toPromise()));
} else if (command === "trusted") {
  const [url, token, path] = args;
  const manifest = JSON.parse(readFileSync(path, "utf8"));
  const ids = new PersistedQueryLink(generatePersistedQueryIdsFromManifest({ loadManifest: () => manifest }));
  report.apolloListed = await step((seen) =>
    apollo(url, token, ids, seen).query({ query: operation("PendingPayouts"), variables: { first: 5 } }).then((r) => r.data));
  const unlisted = gql("query Unlisted { payoutHolds { reason } }");
  report.apolloUnlisted = await step((seen) =>
    apollo(url, token, new PersistedQueryLink({ sha256 }), seen).query({ query: unlisted }).then((r) => r.data));
  const byName = Object.fromEntries(manifest.operations.map((o) => [o.name, o.id]));
  const fromManifest = persistedExchange({
    enforcePersistedQueries: true,
    generateHash: async (_text, document) => byName[document.definitions[0].name.value],
  });
  report.urqlListed = await step(async (seen) =>
    settled(await urql(url, token, fromManifest, seen).query(operation("Viewer"), {}).toPromise()));
} else {
  console.error("usage: clients.mjs manifest | apq URL1 URL2 TOKEN | trusted URL TOKEN MANIFEST");
  process.exit(2);
}
console.log(JSON.stringify(report));
