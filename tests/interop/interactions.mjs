// The interaction (login) pages at /interaction/{uid}: a plain server-rendered form, no
// JavaScript. The account field takes an oid, UPN or e-mail address; consent is granted without
// a page; a disabled account is refused (AADSTS50057) and an unknown one gets the form again
// (AADSTS50034).
import { isDisabled } from './people.mjs';
import { escapeHtml, page, send } from './html.mjs';

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

// GET /interaction/{uid} shows the form; POST …/login and …/abort finish the interaction.
// `people` is from createPeople() (people.mjs); `tenantId` goes into the error messages.
export async function handleInteraction({ provider, people, tenantId }, req, res, uid, action) {
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
    person = people.byLogin(form.get('account'));
  } catch (err) {
    send(res, 500, page('Sign-in error', `<p class="error">${escapeHtml(err.message)}</p>`));
    return;
  }
  if (!person) {
    send(res, 400, loginForm(uid, details, `AADSTS50034: The user account ${form.get('account') || ''} does not exist in tenant ${tenantId}.`));
    return;
  }
  if (isDisabled(person)) {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'AADSTS50057: The user account is disabled.',
    }, { mergeWithLastSubmission: false });
    return;
  }
  const result = { login: { accountId: people.subFor(person), amr: ['pwd'] } };
  if (details.prompt.name === 'select_account') result.select_account = {};
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}
