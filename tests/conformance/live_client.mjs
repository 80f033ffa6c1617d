// The README's graphql-ws subscriber, run under Node against a live Mana server (tests/test_live_clients.py).
//
// MANA_WS_URL: ws://…/graphql/. Credentials: MANA_TOKEN (an API token, sent in connection_init as the
// README shows) or MANA_COOKIE with MANA_ORIGIN (the session cookie; Node's `ws` sends the headers a
// browser would). Prints one JSON line {"ready": <me>} once the socket is acknowledged, the
// subscription sent and a query on the same socket answered, then {"event": <data>} for the first
// inboxUpdated, and exits 0; {"error": …} and exit 1 on any failure or after MANA_WAIT_MS.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const { MANA_WS_URL: url, MANA_TOKEN: token, MANA_COOKIE: cookie, MANA_ORIGIN: origin } = process.env;
const waitMs = Number(process.env.MANA_WAIT_MS ?? 30000);

// Node 20 has no WebSocket of its own; a browser needs neither this nor the headers (it sends both).
class BrowserLikeWebSocket extends WebSocket {
  constructor(address, protocols) {
    super(address, protocols, { headers: { Cookie: cookie, Origin: origin } });
  }
}

const client = createClient({
  url,
  webSocketImpl: cookie ? BrowserLikeWebSocket : WebSocket,
  connectionParams: token ? { authorization: `Bearer ${token}` } : undefined,
  retryAttempts: 0,
});

function finish(line, code) {
  console.log(JSON.stringify(line));
  client.dispose();
  process.exit(code);
}

setTimeout(() => finish({ error: `no event within ${waitMs} ms` }, 1), waitMs);

client.subscribe(
  { query: "subscription { inboxUpdated { kind at referral { id status assignee { nationalCode } } } }" },
  {
    next: (message) => finish(message.errors ? { error: message.errors } : { event: message.data }, message.errors ? 1 : 0),
    error: (error) => finish({ error: String(error?.reason ?? error?.message ?? error) }, 1),
    complete: () => finish({ error: "completed without an event" }, 1),
  },
);

const me = await client.iterate({ query: "{ me { user { nationalCode } } }" }).next();
console.log(JSON.stringify({ ready: me.value?.data?.me ?? null }));
