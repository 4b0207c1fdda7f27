// An independent OpenID Provider for interop tests: the npm package `oidc-provider`,
// configured to look like a Microsoft Entra ID tenant (v2.0 endpoints).
//
// Configuration (environment):
//   OP_PORT          port to listen on, 127.0.0.1 only (0 = any free port)
//   TENANT_ID        the tenant GUID; issuer = http://127.0.0.1:PORT/{TENANT_ID}/v2.0
//   CLIENT_ID        the one client (confidential, client_secret_post, code + PKCE S256)
//   CLIENT_SECRET
//   REDIRECT_URIS    comma-separated, matched exactly
//   PEOPLE_FILE      JSON {"people": [{"oid", "name", "upn", "email", "roles", "groups", ...}]};
//                    re-read whenever it changes, so a test may edit it between sign-ins
//   POST_LOGOUT_REDIRECT_URIS  optional, comma-separated; the REDIRECT_URIS are accepted too
//
//   OP_EXIT_ON_STDIN_EOF=1     optional: also exit when stdin reaches end of file (orphan guard)
//
// When ready, prints exactly one JSON line to stdout: {"ready": true, "port": N, "issuer": "..."}.
// Everything else goes to stderr. SIGTERM / SIGINT end the process cleanly.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import util from 'node:util';

// oidc-provider logs through console.info / console.warn, and console.info is stdout: send all
// of it to stderr so that stdout carries the ready line only. The "unsupported runtime" notice
// (oidc-provider 9 wants Node 22+, it runs fine on Node 20) is dropped.
const toStderr = (...args) => {
  const line = util.format(...args);
  if (/Unsupported runtime/.test(line)) return;
  process.stderr.write(`${line}\n`);
};
console.log = toStderr;
console.info = toStderr;
console.warn = toStderr;
console.debug = toStderr;

const { default: Provider, interactionPolicy } = await import('oidc-provider');

function fail(message) {
  process.stderr.write(`op_server: ${message}\n`);
  process.exit(2);
}

function required(name) {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') fail(`environment variable ${name} is required`);
  return value.trim();
}

function uriList(value) {
  return (value || '').split(',').map((s) => s.trim()).filter(Boolean);
}

const TENANT_ID = required('TENANT_ID');
const CLIENT_ID = required('CLIENT_ID');
const CLIENT_SECRET = required('CLIENT_SECRET');
const REDIRECT_URIS = uriList(required('REDIRECT_URIS'));
const PEOPLE_FILE = required('PEOPLE_FILE');
const POST_LOGOUT_REDIRECT_URIS = [
  ...new Set([...REDIRECT_URIS, ...uriList(process.env.POST_LOGOUT_REDIRECT_URIS)]),
];
const OP_PORT = Number.parseInt(process.env.OP_PORT || '0', 10);
if (!Number.isInteger(OP_PORT) || OP_PORT < 0 || OP_PORT > 65535) fail('OP_PORT must be 0..65535');
if (!/^[A-Za-z0-9._-]+$/.test(TENANT_ID)) fail('TENANT_ID must be a plain path segment (a GUID)');
if (!REDIRECT_URIS.length) fail('REDIRECT_URIS is empty');

const TENANT_PREFIX = `/${TENANT_ID}/v2.0`;

// ---------------------------------------------------------------------------------------------
// People

const b64url = (buf) => Buffer.from(buf).toString('base64url');

// Entra's `sub` is pairwise (per app and user) and differs from `oid`: 43 base64url characters.
// A person may carry an explicit "sub" in the people file; otherwise it is derived.
function subFor(person) {
  if (typeof person.sub === 'string' && person.sub) return person.sub;
  return b64url(crypto.createHash('sha256').update(`${TENANT_ID}\n${CLIENT_ID}\n${person.oid}`).digest());
}

let peopleCache = { mtimeMs: -1, size: -1, people: [] };

function loadPeople() {
  let stat;
  try {
    stat = fs.statSync(PEOPLE_FILE);
  } catch (err) {
    throw new Error(`PEOPLE_FILE ${PEOPLE_FILE} cannot be read: ${err.message}`);
  }
  if (stat.mtimeMs === peopleCache.mtimeMs && stat.size === peopleCache.size) return peopleCache.people;
  const parsed = JSON.parse(fs.readFileSync(PEOPLE_FILE, 'utf8'));
  const people = Array.isArray(parsed) ? parsed : parsed?.people;
  if (!Array.isArray(people)) throw new Error(`PEOPLE_FILE ${PEOPLE_FILE} has no "people" array`);
  for (const p of people) {
    if (!p || typeof p.oid !== 'string' || !p.oid) throw new Error(`PEOPLE_FILE: every person needs an "oid": ${JSON.stringify(p)}`);
  }
  peopleCache = { mtimeMs: stat.mtimeMs, size: stat.size, people };
  return people;
}

function personBySub(sub) {
  return loadPeople().find((p) => subFor(p) === sub);
}

// The login form takes the oid (the account id); a UPN or e-mail address works too.
function personByLogin(value) {
  const v = String(value || '').trim();
  if (!v) return undefined;
  const lower = v.toLowerCase();
  const people = loadPeople();
  return people.find((p) => p.oid === v)
    || people.find((p) => p.oid.toLowerCase() === lower)
    || people.find((p) => [p.upn, p.userPrincipalName, p.email, p.mail]
      .some((x) => typeof x === 'string' && x.toLowerCase() === lower));
}

function isDisabled(person) {
  return person.accountEnabled === false || person.account_enabled === false
    || person.enabled === false || person.active === false;
}

const nonEmptyArray = (value) => (Array.isArray(value) && value.length ? value : undefined);

// Entra puts at most 200 group ids in a JWT; above that (or when a person asks for it with
// "groups_overage": true) it sends the overage indicator instead.
function groupClaims(person) {
  const groups = nonEmptyArray(person.groups);
  if (person.groups_overage === true || (groups && groups.length > 200)) {
    return {
      _claim_names: { groups: 'src1' },
      _claim_sources: {
        src1: { endpoint: `https://graph.windows.net/${TENANT_ID}/users/${person.oid}/getMemberObjects` },
      },
    };
  }
  return groups ? { groups } : {};
}

function stableGuid(...parts) {
  const h = crypto.createHash('sha256').update(parts.join('\n')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

async function findAccount(ctx, sub, token) {
  const person = personBySub(sub);
  if (!person) return undefined;
  return {
    accountId: sub,
    async claims(use) {
      const upn = person.upn ?? person.userPrincipalName;
      const email = person.email ?? person.mail;
      if (use === 'userinfo') {
        // Like Microsoft Graph's /oidc/userinfo: no oid, tid, roles or groups.
        process.stderr.write(`op_server: userinfo was called for ${person.oid}\n`);
        return {
          sub, name: person.name, given_name: person.given_name, family_name: person.family_name, email,
        };
      }
      const sessionUid = token?.sessionUid ?? ctx?.oidc?.session?.uid;
      const now = Math.floor(Date.now() / 1000);
      return {
        sub,
        oid: person.oid,
        tid: TENANT_ID,
        ver: '2.0',
        nbf: now,
        name: person.name,
        given_name: person.given_name,
        family_name: person.family_name,
        preferred_username: upn,
        email,
        roles: nonEmptyArray(person.roles),
        ...groupClaims(person),
        sid: sessionUid ? stableGuid('sid', sessionUid) : undefined,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Keys and storage (in memory only; nothing is written to disk)

function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  // kid = the RFC 7638 thumbprint of the public key.
  const thumbprint = b64url(crypto.createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n })).digest());
  return { ...jwk, kid: thumbprint, use: 'sig' };
}

const storage = new Map(); // key -> { payload, expiresAt }
const grantIndex = new Map(); // grantId -> Set of keys

class MemoryAdapter {
  constructor(name) {
    this.name = name;
  }

  key(id) {
    return `${this.name}:${id}`;
  }

  static get(key) {
    const entry = storage.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt && entry.expiresAt <= Date.now()) {
      storage.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    storage.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    if (payload.grantId) {
      if (!grantIndex.has(payload.grantId)) grantIndex.set(payload.grantId, new Set());
      grantIndex.get(payload.grantId).add(key);
    }
    if (payload.uid) storage.set(`sessionUid:${payload.uid}`, { payload: id });
    if (payload.userCode) storage.set(`userCode:${payload.userCode}`, { payload: id });
  }

  async find(id) {
    return MemoryAdapter.get(this.key(id));
  }

  async findByUid(uid) {
    const id = MemoryAdapter.get(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = MemoryAdapter.get(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = MemoryAdapter.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    storage.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantIndex.get(grantId) || []) storage.delete(key);
    grantIndex.delete(grantId);
  }
}

// ---------------------------------------------------------------------------------------------
// Provider

// Entra accepts prompt=select_account; oidc-provider only knows the prompts in its policy.
const policy = interactionPolicy.base();
policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);

// Consent is never asked: the one client gets whatever OIDC scopes and claims it requests.
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!grant) {
    grant = new oidc.provider.Grant({ accountId: oidc.session.accountId, clientId: oidc.client.clientId });
  }
  grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' ') || 'openid');
  const claims = [...oidc.requestParamClaims];
  if (claims.length) grant.addOIDCClaims(claims);
  await grant.save();
  return grant;
}

function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}

const ttl = {
  AccessToken: 3600,
  AuthorizationCode: 600,
  IdToken: 3600,
  Interaction: 3600,
  Session: 24 * 3600,
  Grant: 24 * 3600,
};

function buildProvider(issuer) {
  const tenantPath = `/${TENANT_ID}`;
  const provider = new Provider(issuer, {
    adapter: MemoryAdapter,
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: REDIRECT_URIS,
      post_logout_redirect_uris: POST_LOGOUT_REDIRECT_URIS,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
    }],
    clientAuthMethods: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [b64url(crypto.randomBytes(32))] },
    // Scope claims go into the ID token itself (Entra's model), not only into userinfo.
    conformIdTokenClaims: false,
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ['sub', 'oid', 'tid', 'ver', 'nbf', 'roles', 'groups', 'sid'],
      profile: ['name', 'preferred_username', 'given_name', 'family_name'],
      email: ['email'],
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = page('Sign out', `${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
<button type="submit" form="op.logoutForm">Stay signed in</button>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = page('Signed out', '<p>You have signed out.</p>');
        },
      },
    },
    // Entra's paths (discovery covers them anyway; this also serves RPs that build them).
    routes: {
      authorization: `${tenantPath}/oauth2/v2.0/authorize`,
      token: `${tenantPath}/oauth2/v2.0/token`,
      jwks: `${tenantPath}/discovery/v2.0/keys`,
      end_session: `${tenantPath}/oauth2/v2.0/logout`,
      userinfo: '/oidc/userinfo',
    },
    discovery: { claim_types_supported: ['normal'] },
    interactions: {
      policy,
      url: async (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    loadExistingGrant,
    findAccount,
    ttl,
    clockTolerance: 5,
    clientBasedCORS: () => false,
    async renderError(ctx, out) {
      ctx.type = 'html';
      const rows = Object.entries(out)
        .map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: <span class="${escapeHtml(k)}">${escapeHtml(v)}</span></p>`)
        .join('\n');
      ctx.body = page('Sign-in error', rows);
    },
  });

  for (const event of ['server_error', 'authorization.error', 'grant.error', 'end_session.error',
    'userinfo.error', 'jwks.error', 'discovery.error', 'interaction.error']) {
    provider.on(event, (ctx, err) => {
      const detail = [err?.message, err?.error_description && `(${err.error_description})`,
        err?.error_detail && `[${err.error_detail}]`].filter(Boolean).join(' ');
      process.stderr.write(`op_server: ${event}: ${detail}\n`);
    });
  }
  return provider;
}

// ---------------------------------------------------------------------------------------------
// The interaction (login) pages: a plain server-rendered form, no JavaScript.

function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, html) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(html);
}

function loginForm(uid, details, message) {
  const params = details.params || {};
  const hint = params.login_hint || '';
  const error = message ? `<p class="error" role="alert">${escapeHtml(message)}</p>\n` : '';
  return page('Sign in', `${error}<p>Client: ${escapeHtml(params.client_id)}; prompt: ${escapeHtml(details.prompt?.name)}</p>
<form id="login" method="post" action="/interaction/${escapeHtml(uid)}/login">
  <label for="account">Account (object id, UPN or e-mail)</label>
  <input id="account" name="account" type="text" value="${escapeHtml(hint)}" autofocus>
  <button type="submit">Sign in</button>
</form>
<form id="abort" method="post" action="/interaction/${escapeHtml(uid)}/abort">
  <input type="hidden" name="error" value="access_denied">
  <button type="submit">Cancel</button>
</form>`);
}

async function finishConsent(provider, req, res, details) {
  const { prompt, params, session } = details;
  let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  if (!grant) grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function handleInteraction(provider, req, res, uid, action) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    send(res, 400, page('Sign-in error', `<p class="error">${escapeHtml(err.message)}</p>`));
    return;
  }
  if (details.uid !== uid) {
    send(res, 400, page('Sign-in error', '<p class="error">interaction mismatch</p>'));
    return;
  }

  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'consent') {
      await finishConsent(provider, req, res, details);
      return;
    }
    send(res, 200, loginForm(uid, details));
    return;
  }

  if (req.method !== 'POST' || !['login', 'abort'].includes(action)) {
    send(res, 405, page('Not allowed', ''));
    return;
  }
  const form = new URLSearchParams(await readBody(req));

  if (action === 'abort') {
    const error = form.get('error') || 'access_denied';
    const description = form.get('error_description') || 'AADSTS65004: User declined to consent to access the app.';
    await provider.interactionFinished(req, res, { error, error_description: description }, { mergeWithLastSubmission: false });
    return;
  }

  let person;
  try {
    person = personByLogin(form.get('account'));
  } catch (err) {
    send(res, 500, page('Sign-in error', `<p class="error">${escapeHtml(err.message)}</p>`));
    return;
  }
  if (!person) {
    send(res, 400, loginForm(uid, details, `AADSTS50034: The user account ${form.get('account') || ''} does not exist in tenant ${TENANT_ID}.`));
    return;
  }
  if (isDisabled(person)) {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'AADSTS50057: The user account is disabled.',
    }, { mergeWithLastSubmission: false });
    return;
  }
  const result = { login: { accountId: subFor(person), amr: ['pwd'] } };
  if (details.prompt.name === 'select_account') result.select_account = {};
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

// ---------------------------------------------------------------------------------------------
// Server

try {
  loadPeople();
} catch (err) {
  fail(err.message);
}

let handler = (req, res) => {
  res.writeHead(503);
  res.end();
};

const server = http.createServer((req, res) => {
  Promise.resolve(handler(req, res)).catch((err) => {
    process.stderr.write(`op_server: ${err.stack || err}\n`);
    if (!res.headersSent) send(res, 500, page('Server error', `<p>${escapeHtml(err.message)}</p>`));
    else res.end();
  });
});
server.keepAliveTimeout = 1000;

server.on('error', (err) => fail(`cannot listen: ${err.message}`));
server.listen(OP_PORT, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}${TENANT_PREFIX}`;
  let provider;
  try {
    provider = buildProvider(issuer);
  } catch (err) {
    fail(`cannot configure oidc-provider: ${err.stack || err}`);
  }
  const callback = provider.callback();

  handler = async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const interaction = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?\/?$/.exec(url.pathname);
    if (interaction) {
      await handleInteraction(provider, req, res, interaction[1], interaction[2]);
      return;
    }
    if (url.pathname === TENANT_PREFIX || url.pathname.startsWith(`${TENANT_PREFIX}/`)) {
      req.url = (url.pathname.slice(TENANT_PREFIX.length) || '/') + url.search;
    }
    await callback(req, res);
  };

  process.stdout.write(`${JSON.stringify({ ready: true, port, issuer })}\n`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// provider.py sets this and keeps our stdin open: if the test process dies without stopping us,
// the pipe closes and we go too.
if (process.env.OP_EXIT_ON_STDIN_EOF === '1') {
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}
