// A real OpenID provider for paydesk's tests: the certified `oidc-provider` package, configured to hand out
// client-credentials access tokens as signed JWTs for the resource `urn:paydesk` (audience `paydesk`), each client
// carrying a role. Keys live in a folder, one private JWK per key id, made on first use; the first key id given
// signs and every one given is published, so restarting with `new,old` is a key rotation.
//
// Given the console's address too, it also has the console's public client (authorization code with PKCE,
// redirecting there, no consent asked) and its development login page: any login signs in, `admin`, `ops` or a
// freelancer's UUID, and the token carries the role the login names.
//
//   node provider.mjs <port> <keys folder> <kid>[,<kid>...] [<console URL>]
//
// Prints `ready <issuer>` once it listens.

import Provider from 'oidc-provider';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [port, folder, kids, consoleUrl] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
mkdirSync(folder, { recursive: true });

function key(kid) {
  const file = join(folder, `${kid}.json`);
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(file, JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }));
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

const ROLES = { 'admin-app': 'paydesk-admin', 'ops-app': 'paydesk-ops', 'freelancer-app': 'paydesk-freelancer' };
const clients = Object.keys(ROLES).map((client_id) => ({
  client_id,
  client_secret: `${client_id}-secret`,
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_post',
}));

if (consoleUrl) {
  clients.push({
    client_id: 'paydesk-console',
    grant_types: ['authorization_code'],
    redirect_uris: [consoleUrl],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  });
}
/// A console login's role: `admin` and `ops` are staff, anything else a freelancer.
const roleOf = (login) => ({ admin: 'paydesk-admin', ops: 'paydesk-ops' })[login] ?? 'paydesk-freelancer';

const provider = new Provider(issuer, {
  clients,
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  // The console is the marketplace's own application: its sign-in needs no consent page.
  loadExistingGrant: async (ctx) => {
    const id = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (id) return ctx.oidc.provider.Grant.find(id);
    if (ctx.oidc.client.clientId !== 'paydesk-console') return undefined;
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid');
    grant.addResourceScope('urn:paydesk', 'payouts');
    await grant.save();
    return grant;
  },
  jwks: { keys: kids.split(',').map(key) },
  features: {
    devInteractions: { enabled: Boolean(consoleUrl) },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:paydesk',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'payouts',
        audience: 'paydesk',
        accessTokenFormat: 'jwt',
        accessTokenTTL: 300,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  ttl: { ClientCredentials: 300 },
  extraTokenClaims: (_ctx, token) => ({ roles: [ROLES[token.clientId] ?? roleOf(token.accountId)] }),
});

// The test reads the first line and stops listening: anything written later must not end the process.
process.stdout.on('error', () => {});
provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
