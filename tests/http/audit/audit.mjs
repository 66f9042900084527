// Runs graphql-http's server audits (GraphQL over HTTP spec) against the URL given as the
// only argument and prints every result as JSON: [{id, name, status, reason}].
// status is "ok", "warn" (a SHOULD or MAY failed) or "error" (a MUST failed).
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint url>');
  process.exit(2);
}

const results = await Promise.all(serverAudits({ url, fetchFn: fetch }).map((audit) => audit.fn()));
const summary = results.map(({ id, name, status, reason }) => ({ id, name, status, reason }));
process.stdout.write(JSON.stringify(summary));
