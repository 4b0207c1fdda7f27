// The people file and the claims Entra would put in tokens for each person.
//
// The file is JSON {"people": [{"oid", "name", "upn", "email", "roles", "groups", ...}]} (a bare
// array works too) and is re-read whenever it changes, so a test may edit it between sign-ins.
import crypto from 'node:crypto';
import fs from 'node:fs';

export function isDisabled(person) {
  return person.accountEnabled === false || person.account_enabled === false
    || person.enabled === false || person.active === false;
}

const nonEmptyArray = (value) => (Array.isArray(value) && value.length ? value : undefined);

function stableGuid(...parts) {
  const h = crypto.createHash('sha256').update(parts.join('\n')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

// Returns { load, byLogin, subFor, findAccount } for the people in `peopleFile`, as seen by the
// one client `clientId` of tenant `tenantId`. load() throws when the file is missing or malformed.
export function createPeople({ peopleFile, tenantId, clientId }) {
  let cache = { mtimeMs: -1, size: -1, people: [] };

  function load() {
    let stat;
    try {
      stat = fs.statSync(peopleFile);
    } catch (err) {
      throw new Error(`PEOPLE_FILE ${peopleFile} cannot be read: ${err.message}`);
    }
    if (stat.mtimeMs === cache.mtimeMs && stat.size === cache.size) return cache.people;
    const parsed = JSON.parse(fs.readFileSync(peopleFile, 'utf8'));
    const people = Array.isArray(parsed) ? parsed : parsed?.people;
    if (!Array.isArray(people)) throw new Error(`PEOPLE_FILE ${peopleFile} has no "people" array`);
    for (const p of people) {
      if (!p || typeof p.oid !== 'string' || !p.oid) throw new Error(`PEOPLE_FILE: every person needs an "oid": ${JSON.stringify(p)}`);
    }
    cache = { mtimeMs: stat.mtimeMs, size: stat.size, people };
    return people;
  }

  // Entra's `sub` is pairwise (per app and user) and differs from `oid`: 43 base64url characters.
  // A person may carry an explicit "sub" in the people file; otherwise it is derived.
  function subFor(person) {
    if (typeof person.sub === 'string' && person.sub) return person.sub;
    return crypto.createHash('sha256').update(`${tenantId}\n${clientId}\n${person.oid}`).digest('base64url');
  }

  // The login form takes the oid (the account id); a UPN or e-mail address works too.
  function byLogin(value) {
    const v = String(value || '').trim();
    if (!v) return undefined;
    const lower = v.toLowerCase();
    const people = load();
    return people.find((p) => p.oid === v)
      || people.find((p) => p.oid.toLowerCase() === lower)
      || people.find((p) => [p.upn, p.userPrincipalName, p.email, p.mail]
        .some((x) => typeof x === 'string' && x.toLowerCase() === lower));
  }

  // Entra puts at most 200 group ids in a JWT; above that (or when a person asks for it with
  // "groups_overage": true) it sends the overage indicator instead.
  function groupClaims(person) {
    const groups = nonEmptyArray(person.groups);
    if (person.groups_overage === true || (groups && groups.length > 200)) {
      return {
        _claim_names: { groups: 'src1' },
        _claim_sources: {
          src1: { endpoint: `https://graph.windows.net/${tenantId}/users/${person.oid}/getMemberObjects` },
        },
      };
    }
    return groups ? { groups } : {};
  }

  // oidc-provider's findAccount: the ID token gets Entra's claims; userinfo answers like
  // Microsoft Graph's /oidc/userinfo (no oid, tid, roles or groups) and logs each call.
  async function findAccount(ctx, sub, token) {
    const person = load().find((p) => subFor(p) === sub);
    if (!person) return undefined;
    return {
      accountId: sub,
      async claims(use) {
        const upn = person.upn ?? person.userPrincipalName;
        const email = person.email ?? person.mail;
        if (use === 'userinfo') {
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
          tid: tenantId,
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

  return { load, byLogin, subFor, findAccount };
}
