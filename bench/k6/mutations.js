// The mutation mix against our server, for bench/reads.py: each iteration creates a
// lead, moves it from NEW to CONTACTED and records a message with it (3 requests).
//
// TARGET                           base URL of the server
// AUTHORIZATION                    the Authorization header (an admin of the writes tenant)
// CREATE, CHANGE_STAGE, RECORD     the three GraphQL documents; variables as below
//
// An answer counts as failed unless it is HTTP 200 with no errors and no userErrors.
import http from "k6/http";
import { check } from "k6";

const params = {
  headers: { "Content-Type": "application/json", Authorization: __ENV.AUTHORIZATION },
};

function send(query, variables) {
  const response = http.post(
    __ENV.TARGET + "/graphql",
    JSON.stringify({ query: query, variables: variables }),
    params,
  );
  const payload = answered(response);
  check(response, { answered: () => payload !== null });
  return payload;
}

// The first field of the answer's data, when it came without errors of any kind.
function answered(response) {
  if (response.status !== 200) {
    return null;
  }
  const body = response.json();
  if (body.errors || !body.data) {
    return null;
  }
  const payload = Object.values(body.data)[0];
  return payload && payload.userErrors.length === 0 ? payload : null;
}

export default function () {
  const created = send(__ENV.CREATE, { name: `Bench write ${__VU}-${__ITER}` });
  if (created === null) {
    return;
  }
  const leadId = created.lead.id;
  send(__ENV.CHANGE_STAGE, { leadId: leadId });
  send(__ENV.RECORD, { leadId: leadId });
}
