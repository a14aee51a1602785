// A real OpenID provider for paydesk's tests: the certified `oidc-provider` package, configured to hand out
// client-credentials access tokens as signed JWTs for the resource `urn:paydesk` (audience `paydesk`), each client
// carrying a role. Keys live in a folder, one private JWK per key id, made on first use; the first key id given
// signs and every one given is published, so restarting with `new,old` is a key rotation.
//
//   node provider.mjs <port> <keys folder> <kid>[,<kid>...]
//
// Prints `ready <issuer>` once it listens.

import Provider from 'oidc-provider';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [port, folder, kids] = process.argv.slice(2);
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

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: kids.split(',').map(key) },
  features: {
    devInteractions: { enabled: false },
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
  extraTokenClaims: (_ctx, token) => ({ roles: [ROLES[token.clientId]] }),
});

provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
