// Starts GraphQL Playground against this Parley: HTTP for queries and
// mutations, WebSocket (the legacy graphql-ws subprotocol, which Parley
// also speaks) for subscriptions. HTTP HEADERS go with every request and
// as the WebSocket's connection_init payload.
(function () {
  "use strict";
  var http = new URL("graphql", window.location.href);
  var ws = new URL("graphql/ws", window.location.href);
  ws.protocol = ws.protocol === "https:" ? "wss:" : "ws:";

  var query = [
    "# Run register or login, then put its token in HTTP HEADERS below:",
    '#   {"Authorization": "Bearer <token>"}',
    "",
    "query Me {",
    "  me { id username displayName }",
    "}",
    "",
  ].join("\n");

  window.addEventListener("load", function () {
    GraphQLPlayground.init(document.getElementById("root"), {
      endpoint: http.toString(),
      subscriptionEndpoint: ws.toString(),
      canSaveConfig: false,
      settings: {
        "request.credentials": "omit",
        // Parley's schema changes with a deploy, not while you type.
        "schema.polling.enable": false,
        "tracing.hideTracingResponse": true,
      },
      tabs: [
        {
          endpoint: http.toString(),
          query: query,
          headers: { Authorization: "Bearer <token>" },
        },
      ],
    });
  });
})();
