// A real OpenID Connect provider (panva/oidc-provider) for the dashboard's login test
// (tests/browser/test_oidc_provider_login.py): the authorization-code flow with PKCE for the
// public client `gharts-dashboard`, whose redirect URI is REDIRECT_URI. Its own development
// login and consent pages take any login name `NAME`; the person's email is NAME@example.com,
// verified, and is in the ID token. Prints one JSON line `{"issuer": ...}` once ready.

import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const redirectUri = process.env.REDIRECT_URI;
if (!redirectUri) throw new Error('REDIRECT_URI is required');

const server = createServer();
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [
      {
        client_id: 'gharts-dashboard',
        application_type: 'native', // plain http on 127.0.0.1 is allowed for native clients
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'none',
      },
    ],
    pkce: { required: () => true },
    conformIdTokenClaims: false, // scope claims (email) in the ID token, as gharts reads them
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true } },
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, email: `${sub}@example.com`, email_verified: true, name: sub }),
    }),
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer: provider.issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
