// Runs graphql-http's server audits (GraphQL over HTTP spec) against the URL given as the
// only argument and prints every result as JSON: [{id, name, status, reason}].
// status is "ok", "warn" (a SHOULD or MAY failed) or "error" (a MUST failed).
// AUDIT_AUTHORIZATION, when set, is sent as the Authorization header of every request.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint url>');
  process.exit(2);
}

const authorization = process.env.AUDIT_AUTHORIZATION;
const fetchFn = authorization
  ? (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', authorization);
      return fetch(input, { ...init, headers });
    }
  : fetch;

const results = await Promise.all(serverAudits({ url, fetchFn }).map((audit) => audit.fn()));
const summary = results.map(({ id, name, status, reason }) => ({ id, name, status, reason }));
process.stdout.write(JSON.stringify(summary));
