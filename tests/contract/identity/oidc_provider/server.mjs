// A real OpenID Connect provider (panva/oidc-provider) for gharts' identity contract tests.
//
// It listens on 127.0.0.1 (PORT, default: any free port), issues RFC 9068 JWT access tokens to
// the client-credentials client `gharts-ci` for the resource indicators below, and prints one
// JSON line `{"issuer": ..., "kid": ...}` on stdout once it is ready.
//
// Test-only control endpoints, for key rotation:
//   POST /_test/rotate  publish a new key (new kid) and sign with it; old keys stay published
//   POST /_test/retire  stop publishing every key but the current one
// Both answer {"kid": <signing kid>, "published": [<kids>]}.

import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

const RESOURCES = new Set(['https://gharts.test', 'https://elsewhere.test']);
const CLIENT = {
  client_id: 'gharts-ci',
  client_secret: 'gharts-ci-secret',
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_post',
};

let generation = 0;
function newKey() {
  generation += 1;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `key-${generation}`, use: 'sig', alg: 'RS256' };
}

function build(issuer, keys) {
  const signingKid = keys[0].kid;
  const provider = new Provider(issuer, {
    clients: [CLIENT],
    jwks: { keys },
    scopes: ['runners'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'https://gharts.test',
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (!RESOURCES.has(resource)) throw new errors.InvalidTarget();
          return {
            scope: 'runners',
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 600,
            jwt: { sign: { alg: 'RS256', kid: signingKid } },
          };
        },
      },
    },
  });
  return { provider, callback: provider.callback(), keys };
}

function reply(res, body) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

let current;
const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/_test/rotate') {
    current = build(current.provider.issuer, [newKey(), ...current.keys]);
  } else if (req.method === 'POST' && req.url === '/_test/retire') {
    current = build(current.provider.issuer, current.keys.slice(0, 1));
  } else {
    current.callback(req, res);
    return;
  }
  reply(res, { kid: current.keys[0].kid, published: current.keys.map((k) => k.kid) });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  current = build(`http://127.0.0.1:${port}`, [newKey()]);
  process.stdout.write(`${JSON.stringify({ issuer: current.provider.issuer, kid: current.keys[0].kid })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
