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
//
// This file reads the environment, serves HTTP and routes; the rest lives beside it:
//   console_to_stderr.mjs  keeps stdout for the ready line (must stay the first import)
//   people.mjs             the people file and the claims Entra would put in tokens
//   entra_provider.mjs     the oidc-provider configuration (client, paths, claims, keys)
//   memory_adapter.mjs     oidc-provider's in-memory storage
//   interactions.mjs       the login form at /interaction/{uid}
//   html.mjs               page layout, escaping, sending HTML
import './console_to_stderr.mjs';
import http from 'node:http';

import { buildProvider } from './entra_provider.mjs';
import { escapeHtml, page, send } from './html.mjs';
import { handleInteraction } from './interactions.mjs';
import { createPeople } from './people.mjs';

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

const people = createPeople({ peopleFile: PEOPLE_FILE, tenantId: TENANT_ID, clientId: CLIENT_ID });
try {
  people.load();
} catch (err) {
  fail(err.message);
}

// ---------------------------------------------------------------------------------------------
// Server: 503 until the port is known (the issuer contains it), then the provider's routes.

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
    provider = buildProvider({
      issuer,
      tenantId: TENANT_ID,
      client: {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: REDIRECT_URIS,
        postLogoutRedirectUris: POST_LOGOUT_REDIRECT_URIS,
      },
      findAccount: people.findAccount,
    });
  } catch (err) {
    fail(`cannot configure oidc-provider: ${err.stack || err}`);
  }
  const callback = provider.callback();
  const interactionContext = { provider, people, tenantId: TENANT_ID };

  handler = async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const interaction = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?\/?$/.exec(url.pathname);
    if (interaction) {
      await handleInteraction(interactionContext, req, res, interaction[1], interaction[2]);
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
