// One read operation against one contender, for bench/reads.py.
//
// TARGET          base URL of the contender (http://127.0.0.1:PORT)
// REQUESTS_FILE   JSON list of {"method", "path", "body"}: the requests to cycle through
// AUTHORIZATION   the Authorization header to send, if any
//
// Each iteration sends the next request of the list (the virtual users start at
// different places in it). An answer counts as failed unless it is HTTP 200 with no
// GraphQL "errors" member.
import http from "k6/http";
import { check } from "k6";

const requests = JSON.parse(open(__ENV.REQUESTS_FILE));
const headers = { "Content-Type": "application/json" };
if (__ENV.AUTHORIZATION) {
  headers.Authorization = __ENV.AUTHORIZATION;
}
const params = { headers: headers };

export default function () {
  const request = requests[(__ITER + __VU * 7) % requests.length];
  const response = http.request(
    request.method,
    __ENV.TARGET + request.path,
    request.body,
    params,
  );
  check(response, {
    answered: (r) => r.status === 200 && !r.body.includes('"errors"'),
  });
}
