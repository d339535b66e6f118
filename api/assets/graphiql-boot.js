// Starts GraphiQL against this Parley: queries and mutations over HTTP,
// subscriptions over WebSocket, both relative to this page (so a reverse
// proxy may serve Parley under a path prefix). The Headers editor's JSON
// goes with every HTTP request and in the WebSocket's connection_init.
(function () {
  "use strict";
  var http = new URL("graphql", window.location.href);
  var ws = new URL("graphql/ws", window.location.href);
  ws.protocol = ws.protocol === "https:" ? "wss:" : "ws:";

  var starter = [
    "# Welcome to Parley.",
    "#",
    "# 1. Run Register (or Login) and copy the token it returns.",
    "# 2. In Headers below, replace <token> with it.",
    "# 3. Run Me, then Events in a second browser window and send a",
    "#    message from the first: it arrives live over WebSocket.",
    "",
    "mutation Register {",
    '  register(input: {username: "alice", password: "correct horse", displayName: "Alice"}) {',
    "    token",
    "    user { id username }",
    "  }",
    "}",
    "",
    "mutation Login {",
    '  login(input: {username: "alice", password: "correct horse"}) { token }',
    "}",
    "",
    "query Me {",
    "  me { id username displayName }",
    "  conversations(first: 10) { nodes { id title unreadCount } }",
    "}",
    "",
    "subscription Events {",
    "  events {",
    "    __typename",
    "    cursor",
    "    ... on MessageAddedEvent { message { seq body sender { displayName } } }",
    "  }",
    "}",
    "",
  ].join("\n");

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({
        url: http.toString(),
        subscriptionUrl: ws.toString(),
      }),
      defaultQuery: starter,
      defaultHeaders: '{\n  "Authorization": "Bearer <token>"\n}',
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
    }),
  );
})();
