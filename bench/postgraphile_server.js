// PostGraphile 4.14 over Mana's database: the comparison side of bench/country.py.
// Usage: node postgraphile_server.js <database url> <port>
// The connection-filter plugin (with relation filters) lets the benchmark express Mana's scopes and
// the inbox as filters (subtree by lft/rght, "assigned to me or waiting for my review"); no
// permissions are applied: PostGraphile reads as the database owner.
"use strict";
const http = require("http");
const { postgraphile } = require("postgraphile");
const ConnectionFilterPlugin = require("postgraphile-plugin-connection-filter");

const [databaseUrl, port] = process.argv.slice(2);
if (!databaseUrl || !port) {
  console.error("usage: node postgraphile_server.js <database url> <port>");
  process.exit(2);
}

const middleware = postgraphile(databaseUrl, "public", {
  appendPlugins: [ConnectionFilterPlugin],
  graphileBuildOptions: { connectionFilterRelations: true },
  dynamicJson: true,
  setofFunctionsContainNulls: false,
  ignoreRBAC: false,
  disableQueryLog: true,
  enableQueryBatching: false,
  graphiql: false,
  watchPg: false,
  retryOnInitFail: false,
  // Pool of the same size as a daphne worker's effective concurrency is not comparable anyway;
  // keep PostGraphile's default (10 connections).
});

const server = http.createServer(middleware);
server.keepAliveTimeout = 65000;
server.listen(Number(port), "127.0.0.1", () => console.log(`PostGraphile listening on 127.0.0.1:${port}`));
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
