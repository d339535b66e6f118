// Bundle size of each entry point, minified by esbuild (ESM, browser)
// and gzipped by node's zlib: the kit's own code (graphql-ws and the
// optional peers left out), and once with graphql-ws included, since it
// is the kit's one dependency and an app ships it too.
import { build } from "esbuild";
import { gzipSync } from "node:zlib";

const peers = ["@apollo/client", "@urql/core", "@urql/exchange-graphcache", "graphql", "urql"];
const entries = { ".": "src/index.ts", "./apollo": "src/apollo.ts", "./urql": "src/urql.ts" };

async function size(entry, external) {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    external: external.flatMap((p) => [p, `${p}/*`]),
  });
  const code = out.outputFiles[0].contents;
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

const rows = [];
for (const [name, entry] of Object.entries(entries)) {
  const own = await size(entry, [...peers, "graphql-ws"]);
  const withWs = await size(entry, peers);
  rows.push({ entry: `@parley/client${name === "." ? "" : name.slice(1)}`, ...own, withWs });
}
const kb = (n) => `${n} B`;
console.log("entry point                    minified    gzip      (with graphql-ws: minified / gzip)");
for (const r of rows) {
  console.log(
    `${r.entry.padEnd(30)} ${kb(r.min).padStart(9)} ${kb(r.gzip).padStart(9)}      ${kb(r.withWs.min)} / ${kb(r.withWs.gzip)}`,
  );
}
console.log("(peers @apollo/client, @urql/*, graphql are not counted: the app has them anyway)");
