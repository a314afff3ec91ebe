// OAuth 2.0 server for bluemoon's real-peer tests: the npm package oidc-provider, configured like
// the providers bluemoon talks to (authorization code + PKCE S256, a native public client with a
// loopback redirect, refresh-token rotation like Microsoft's), with introspection so that
// Dovecot's oauth2 passdb can check the access tokens presented over SMTP AUTH XOAUTH2.
//
// devInteractions serves plain HTML login and consent forms that accept any login name and
// password: the tests play the browser with an HTTP client, and the login name becomes `sub`,
// which Dovecot compares with the XOAUTH2 user. Everything lives in memory: a restart revokes
// every token issued before it.
//
// Settings (environment): OIDC_PORT (listen port on 127.0.0.1, default 24080),
// OIDC_ACCESS_TTL (seconds, default 3600), OIDC_SHORT_ACCESS_TTL (seconds, for the client
// "bluemoon-short", default 5), OIDC_INTROSPECT_SECRET (the secret of the client "dovecot").
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT || 24080);
const issuer = `http://127.0.0.1:${port}`;
const accessTTL = Number(process.env.OIDC_ACCESS_TTL || 3600);
const shortAccessTTL = Number(process.env.OIDC_SHORT_ACCESS_TTL || 5);
const introspectSecret = process.env.OIDC_INTROSPECT_SECRET || 'dovecot-introspection-secret';

// Registered exactly as peer-facts.md says: for loopback redirects the port is ignored, the rest
// of the string must match, so both the bare origin and the origin with "/" are listed.
const loopback = ['http://127.0.0.1', 'http://127.0.0.1/'];
const nativeClient = (clientId) => ({
  client_id: clientId,
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: loopback,
});

const configuration = {
  clients: [
    // Microsoft-like public desktop client: no secret, PKCE, rotating refresh tokens.
    nativeClient('bluemoon'),
    // The same with access tokens that expire within seconds, to test "expired token, refresh".
    nativeClient('bluemoon-short'),
    // Google-like desktop client that must also send its client secret to the token endpoint.
    {
      ...nativeClient('bluemoon-secret'),
      client_secret: 'bluemoon-client-secret',
      token_endpoint_auth_method: 'client_secret_post',
    },
    // Dovecot's oauth2 passdb authenticates as this client to introspect tokens.
    {
      client_id: 'dovecot',
      client_secret: introspectSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  scopes: ['openid', 'offline_access', 'email', 'mail'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: sub, email_verified: true };
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  pkce: { required: () => true },
  // Hand out a refresh token on every code exchange, whether or not the client asked for
  // offline_access (with prompt=consent): the providers bluemoon targets do so for its scopes.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  // Microsoft-like rotation: every refresh returns a new refresh token, and re-using an old one
  // is refused with invalid_grant and revokes the whole grant.
  rotateRefreshToken: () => true,
  ttl: {
    AccessToken: (ctx, token, client) => (client?.clientId === 'bluemoon-short' ? shortAccessTTL : accessTTL),
    AuthorizationCode: 120,
    Grant: 14 * 24 * 3600,
    Interaction: 600,
    RefreshToken: 14 * 24 * 3600,
    Session: 14 * 24 * 3600,
  },
  cookies: { keys: ['bluemoon-peer-tests-cookie-key'] },
};

const provider = new Provider(issuer, configuration);

// oidc-provider grants offline_access only with prompt=consent (as Google wants it) and drops it
// silently otherwise; Microsoft grants it whenever it is asked for. Be Microsoft-like: a client
// that asks for offline_access gets consent asked and the scope granted, so that it may name the
// scope again in refresh requests (Microsoft requires a scope there; more than granted is
// invalid_scope).
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/auth') {
    const q = new URLSearchParams(ctx.querystring);
    if ((q.get('scope') || '').split(' ').includes('offline_access') && !q.has('prompt')) {
      q.set('prompt', 'consent');
      ctx.querystring = q.toString();
    }
  }
  await next();
});
// Quiet by default; OIDC_DEBUG=1 logs server errors to the log file the start script keeps.
provider.on('server_error', (ctx, err) => console.error('server_error', err));
if (process.env.OIDC_DEBUG) {
  provider.on('grant.error', (ctx, err) => console.error('grant.error', err.message, err.error_description));
}

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
