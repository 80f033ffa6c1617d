// The official GraphQL-over-HTTP audit (graphql-http's serverAudits) against a running Mana server.
//
// Run by tests/test_graphql_http_audit.py:  MANA_AUDIT_URL=http://127.0.0.1:PORT/graphql/ node audit.mjs
// MANA_AUDIT_TOKEN, when set, is sent as «Authorization: Bearer …» on every request (an integrator);
// unset, the requests carry no credentials at all (no cookie, no token, no CSRF header).
// Prints one JSON array: every audit's id, name, status (ok, error = MUST, warn = SHOULD,
// notice = MAY) and, for a failure, the reason with the response's status and body.

import { serverAudits } from 'graphql-http';

const url = process.env.MANA_AUDIT_URL;
if (!url) {
  console.error('MANA_AUDIT_URL is not set');
  process.exit(2);
}
const token = process.env.MANA_AUDIT_TOKEN || '';

function withToken(input, init = {}) {
  if (!token) return fetch(input, init);
  const headers = new Headers(init.headers || {});
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = [];
for (const { id, name, fn } of serverAudits({ url, fetchFn: withToken })) {
  // One at a time: the server under test is a single small process.
  const result = await fn();
  const entry = { id, name, status: result.status };
  if (result.status !== 'ok') {
    let body = '';
    try {
      body = await result.response.text();
    } catch {
      body = '(body already read)';
    }
    entry.reason = result.reason;
    entry.httpStatus = result.response.status;
    entry.contentType = result.response.headers.get('content-type');
    entry.body = body.slice(0, 500);
  }
  results.push(entry);
}
process.stdout.write(JSON.stringify(results));
