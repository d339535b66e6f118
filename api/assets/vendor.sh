#!/usr/bin/env bash
# Refreshes the vendored explorer assets from the npm registry. The versions
# are pinned here and in api/src/http/explorer.rs (its VERSIONS and the
# `?v=` of every asset URL); change both together, then run the explorer
# tests and clients/browser-tests.
#
# The files are the packages' own minified production builds; the only
# change is dropping the trailing `sourceMappingURL` comment, so that a
# browser's developer tools do not ask Parley for maps it does not serve.
set -euo pipefail
cd "$(dirname "$0")"

GRAPHIQL=3.9.0
REACT=18.3.1
PLAYGROUND=1.7.28

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" \
    "graphql-playground-react@$PLAYGROUND" >/dev/null)
for tgz in "$work"/*.tgz; do
    mkdir -p "${tgz%.tgz}"
    tar xzf "$tgz" -C "${tgz%.tgz}"
done

strip_map() { sed -e '/^\/\/# sourceMappingURL=/d' -e 's|//# sourceMappingURL=[^ ]*$||' -e 's|/\*# sourceMappingURL=[^*]*\*/||' "$1" > "$2"; }

mkdir -p graphiql react playground
g="$work/graphiql-$GRAPHIQL/package"
strip_map "$g/graphiql.min.js" graphiql/graphiql.min.js
strip_map "$g/graphiql.min.css" graphiql/graphiql.min.css
cp "$g/LICENSE" graphiql/LICENSE

strip_map "$work/react-$REACT/package/umd/react.production.min.js" react/react.production.min.js
strip_map "$work/react-dom-$REACT/package/umd/react-dom.production.min.js" react/react-dom.production.min.js
cp "$work/react-$REACT/package/LICENSE" react/LICENSE

p="$work/graphql-playground-react-$PLAYGROUND/package/build"
strip_map "$p/static/js/middleware.js" playground/middleware.js
strip_map "$p/static/css/middleware.css" playground/middleware.css
cp "$p/favicon.png" playground/favicon.png
cp "$work/graphql-playground-react-$PLAYGROUND/package/LICENSE" playground/LICENSE

sha256sum graphiql/* react/* playground/* > SHA256SUMS
