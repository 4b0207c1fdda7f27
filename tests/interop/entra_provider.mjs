// The oidc-provider instance, configured like an Entra ID tenant's v2.0 endpoints: the one
// client, Entra's paths and claims, RS256 with a fresh in-memory key, consent never asked.
import crypto from 'node:crypto';
import Provider, { interactionPolicy } from 'oidc-provider';

import { escapeHtml, page } from './html.mjs';
import { MemoryAdapter } from './memory_adapter.mjs';

// A fresh RSA key each start, never written anywhere; kid = the RFC 7638 thumbprint.
function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const thumbprint = crypto.createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n })).digest('base64url');
  return { ...jwk, kid: thumbprint, use: 'sig' };
}

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

const ttl = {
  AccessToken: 3600,
  AuthorizationCode: 600,
  IdToken: 3600,
  Interaction: 3600,
  Session: 24 * 3600,
  Grant: 24 * 3600,
};

const LOGGED_EVENTS = ['server_error', 'authorization.error', 'grant.error', 'end_session.error',
  'userinfo.error', 'jwks.error', 'discovery.error', 'interaction.error'];

// `issuer` is http://127.0.0.1:PORT/{tenantId}/v2.0; requests reach the returned provider's
// callback() with that /{tenantId}/v2.0 prefix already stripped (op_server.mjs does it).
// `client` = { clientId, clientSecret, redirectUris, postLogoutRedirectUris };
// `findAccount` is oidc-provider's hook (people.mjs).
export function buildProvider({ issuer, tenantId, client, findAccount }) {
  const tenantPath = `/${tenantId}`;
  const provider = new Provider(issuer, {
    adapter: MemoryAdapter,
    clients: [{
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
    }],
    clientAuthMethods: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
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

  for (const event of LOGGED_EVENTS) {
    provider.on(event, (ctx, err) => {
      const detail = [err?.message, err?.error_description && `(${err.error_description})`,
        err?.error_detail && `[${err.error_detail}]`].filter(Boolean).join(' ');
      process.stderr.write(`op_server: ${event}: ${detail}\n`);
    });
  }
  return provider;
}
