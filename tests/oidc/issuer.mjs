// tests/oidc/issuer.mjs -- a throw-away OpenID Connect issuer for the laps
// integration tests, built on the npm package oidc-provider (pinned in
// package-lock.json).  TEST ONLY: in-memory storage, development login and
// consent pages, keys generated at start-up.  Started and stopped by
// tests/integration/lib/oidc.sh (oidc_start / oidc_stop); see that file for
// the interface the tests use.
//
// Environment:
//   OIDC_DIR        state directory (required): reads tls.crt, tls.key and
//                   clients.json from it; writes jwks.json (the public keys),
//                   port (the port, written once it listens) and logs to stderr.
//   OIDC_AUDIENCE   the resource indicator / token audience that is issued by
//                   default (default https://laps-escrowd.test)
//   OIDC_EXTRA_AUDIENCES  space-separated further resource indicators a
//                   client may ask for with resource=... (default
//                   https://wrong-audience.test), to test audience checks
//   OIDC_PORT       port to listen on (default 0: a free port)
//   OIDC_AT_TTL     access token lifetime in seconds (default 600)
//
// clients.json (read again on every lookup, so a test can add clients while
// the issuer runs; a client's metadata must not change once used):
//   { "clients": [ { oidc-provider client metadata, plus optionally
//                    "laps_at_alg": "ES256" | "RS256" | "EdDSA"  (access token
//                        signing algorithm for this client, default ES256),
//                    "laps_groups": ["..."]  (a "groups" claim in its tokens),
//                    "laps_at_ttl": N  (its access tokens' lifetime, seconds) } ],
//     "users":   { "alice": { "groups": ["laps-admins"] } } }
//
// Access tokens are JWTs (typ "at+jwt", RFC 9068) with iss, sub, aud,
// client_id, scope, jti, iat, exp, and "groups" when configured.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:https';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Provider from 'oidc-provider';

const dir = process.env.OIDC_DIR;
if (!dir) {
  console.error('issuer: OIDC_DIR is not set');
  process.exit(2);
}
const audience = process.env.OIDC_AUDIENCE || 'https://laps-escrowd.test';
const extraAudiences = (process.env.OIDC_EXTRA_AUDIENCES ?? 'https://wrong-audience.test')
  .split(/\s+/).filter(Boolean);
const resources = new Set([audience, ...extraAudiences]);
const atTTL = Number.parseInt(process.env.OIDC_AT_TTL || '600', 10);
const LAPS_SCOPES = ['laps.device', 'laps.read', 'laps.secret', 'laps.expire', 'laps.approve',
  'laps.enroll', 'laps.enroll@lab'];

function readConfig() {
  const text = readFileSync(join(dir, 'clients.json'), 'utf8');
  const conf = JSON.parse(text);
  return { clients: conf.clients || [], users: conf.users || {} };
}

// One signing key per algorithm; the first key of an algorithm signs.
function signingKeys() {
  const mk = (type, opts, alg, kid) => {
    const { privateKey } = generateKeyPairSync(type, opts);
    return { ...privateKey.export({ format: 'jwk' }), alg, kid, use: 'sig' };
  };
  return [
    mk('ec', { namedCurve: 'P-256' }, 'ES256', 'es256-1'),
    mk('rsa', { modulusLength: 2048 }, 'RS256', 'rs256-1'),
    mk('ed25519', {}, 'EdDSA', 'eddsa-1'),
  ];
}

function publicJwks(keys) {
  const priv = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi']);
  return {
    keys: keys.map((k) => Object.fromEntries(Object.entries(k).filter(([n]) => !priv.has(n)))),
  };
}

function writeAtomic(name, text) {
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, join(dir, name));
}

// In-memory storage for everything but clients, which come from clients.json.
const stores = new Map();
class TestAdapter {
  constructor(name) {
    this.name = name;
    if (!stores.has(name)) stores.set(name, new Map());
    this.store = stores.get(name);
  }

  async upsert(id, payload, expiresIn) {
    const exp = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
    this.store.set(id, { payload, exp });
  }

  async find(id) {
    if (this.name === 'Client') {
      return readConfig().clients.find((c) => c.client_id === id);
    }
    const e = this.store.get(id);
    if (!e) return undefined;
    if (e.exp !== undefined && e.exp < Date.now()) {
      this.store.delete(id);
      return undefined;
    }
    return e.payload;
  }

  async findBy(field, value) {
    for (const [id, e] of this.store) {
      if (e.payload[field] === value) return this.find(id);
    }
    return undefined;
  }

  async findByUserCode(userCode) { return this.findBy('userCode', userCode); }

  async findByUid(uid) { return this.findBy('uid', uid); }

  async consume(id) {
    const e = this.store.get(id);
    if (e) e.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) { this.store.delete(id); }

  async revokeByGrantId(grantId) {
    for (const [id, e] of this.store) {
      if (e.payload.grantId === grantId) this.store.delete(id);
    }
  }
}

function groupsFor(token, client) {
  if (token.accountId) {
    const user = readConfig().users[token.accountId];
    return user && Array.isArray(user.groups) ? user.groups : undefined;
  }
  return client && Array.isArray(client.laps_groups) ? client.laps_groups : undefined;
}

function configuration(keys) {
  return {
    adapter: TestAdapter,
    clients: [],
    jwks: { keys },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'offline_access', ...LAPS_SCOPES],
    claims: { openid: ['sub'], groups: ['groups'] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    // Browser clients (the laps console): CORS on the token endpoint for the
    // origins of the client's own redirect URIs, and no other.
    clientBasedCORS: (ctx, origin, client) => (client.redirectUris || [])
      .some((u) => new URL(u).origin === origin),
    extraClientMetadata: {
      // laps_at_ttl: this client's access token lifetime in seconds (the
      // console test's short-lived tokens), else OIDC_AT_TTL.
      properties: ['laps_at_alg', 'laps_groups', 'laps_at_ttl'],
      validator(ctx, key, value) {
        if (key === 'laps_at_ttl' && value !== undefined
            && !(Number.isInteger(value) && value >= 1 && value <= 86400)) {
          throw new Error('laps_at_ttl must be 1..86400 seconds');
        }
        if (key === 'laps_at_alg' && value !== undefined
            && !['ES256', 'RS256', 'EdDSA'].includes(value)) {
          throw new Error('laps_at_alg must be ES256, RS256 or EdDSA');
        }
      },
    },
    enabledJWA: {
      clientAuthSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'],
      idTokenSigningAlgValues: ['ES256', 'RS256', 'EdDSA'],
    },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => audience,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resource, client) => {
          if (!resources.has(resource)) throw new Provider.errors.InvalidTarget();
          return {
            scope: LAPS_SCOPES.join(' '),
            audience: resource,
            accessTokenTTL: client.laps_at_ttl || atTTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: client.laps_at_alg || 'ES256' } },
          };
        },
      },
    },
    extraTokenClaims: async (ctx, token) => {
      const groups = groupsFor(token, ctx.oidc.client);
      return groups ? { groups } : undefined;
    },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => {
        const user = readConfig().users[id];
        return { sub: id, ...(user && user.groups ? { groups: user.groups } : {}) };
      },
    }),
    ttl: {
      // a number here would win over the resource server's accessTokenTTL
      AccessToken: (ctx, token, client) => (client && client.laps_at_ttl) || atTTL,
      ClientCredentials: atTTL,
      DeviceCode: 600,
      Grant: 3600,
      IdToken: 600,
      Interaction: 600,
      RefreshToken: 3600,
      Session: 3600,
    },
    // Device-flow and interaction pages are fine as the library draws them.
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><title>error</title><pre>${JSON.stringify(out)
        .replace(/</g, '&lt;')}</pre>`;
    },
  };
}

// Listen first (port 0 = a free port), then build the provider for the
// issuer URL that names the real port.
let handler = (req, res) => { res.statusCode = 503; res.end(); };
const server = createServer({
  key: readFileSync(join(dir, 'tls.key')),
  cert: readFileSync(join(dir, 'tls.crt')),
}, (req, res) => handler(req, res));

server.listen(Number.parseInt(process.env.OIDC_PORT || '0', 10), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `https://127.0.0.1:${port}`;
  const keys = signingKeys();
  writeAtomic('jwks.json', `${JSON.stringify(publicJwks(keys), null, 1)}\n`);
  const provider = new Provider(issuer, configuration(keys));
  provider.proxy = false;
  // The development login and consent pages link a web font from
  // fonts.googleapis.com: drop it, so that a browser test sees requests to
  // 127.0.0.1 only (tests/integration/console.sh checks that).
  provider.use(async (ctx, next) => {
    await next();
    if (typeof ctx.body === 'string' && /html/.test(ctx.type)) {
      ctx.body = ctx.body.replace(/<link[^>]*fonts\.googleapis\.com[^>]*>/g, '')
        .replace(/@import url\([^)]*fonts\.googleapis\.com[^)]*\);?/g, '');
    }
  });
  provider.on('server_error', (ctx, err) => console.error('issuer: server_error', err));
  handler = provider.callback();
  writeAtomic('port', `${port}\n`);
  console.error(`issuer: listening on ${issuer}`);
});

const stop = () => { server.close(() => process.exit(0)); server.closeAllConnections(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
