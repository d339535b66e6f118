// Builds the demo chat into dist/ (committed: Parley embeds these files,
// so running the server never needs node).
//
//   node build.mjs          write dist/
//   node build.mjs --check  build into a temporary folder and fail when
//                           dist/ differs from it (CI: dist/ matches src/)
//   node build.mjs --size   print each file's size, minified and gzipped
//
// The build is deterministic: a pinned esbuild, no source maps, no
// timestamps, no absolute paths in the output. The kit is bundled from its
// source (../typescript/src); the packages it imports (graphql-ws) resolve
// from this folder's node_modules, so the bundle does not depend on
// whether the kit's own node_modules are installed.
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "dist");

/// Bare imports from outside this folder (the kit's source) resolve here.
const resolveFromDemo = {
  name: "resolve-from-demo",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData?.fromDemo || !args.resolveDir) return undefined;
      const relative = path.relative(here, args.resolveDir);
      if (!relative.startsWith("..")) return undefined;
      const result = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: here,
        pluginData: { fromDemo: true },
      });
      if (result.errors.length) return { errors: result.errors };
      return { path: result.path, external: result.external, sideEffects: result.sideEffects };
    });
  },
};

const common = {
  absWorkingDir: here,
  bundle: true,
  minify: true,
  write: false,
  logLevel: "warning",
  legalComments: "eof",
  charset: "utf8",
};

/// Every file of dist/: name -> bytes.
async function build() {
  const files = new Map();
  const js = await esbuild.build({
    ...common,
    entryPoints: ["src/main.ts"],
    outfile: "dist/app.js",
    format: "iife",
    target: ["es2022"],
    platform: "browser",
    plugins: [resolveFromDemo],
  });
  const css = await esbuild.build({
    ...common,
    entryPoints: ["src/app.css"],
    outfile: "dist/app.css",
  });
  for (const out of [...js.outputFiles, ...css.outputFiles]) {
    files.set(path.basename(out.path), Buffer.from(out.contents));
  }
  files.set("index.html", readFileSync(path.join(here, "src/index.html")));
  return files;
}

function readDir(dir) {
  const files = new Map();
  let names = [];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names) files.set(name, readFileSync(path.join(dir, name)));
  return files;
}

const mode = process.argv[2];
if (mode === "--check") {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "parley-demo-"));
  try {
    const built = await build();
    for (const [name, bytes] of built) writeFileSync(path.join(tmp, name), bytes);
    const committed = readDir(dist);
    const problems = [];
    for (const [name, bytes] of built) {
      const have = committed.get(name);
      if (!have) problems.push(`dist/${name} is missing`);
      else if (!have.equals(bytes)) problems.push(`dist/${name} differs from a fresh build`);
    }
    for (const name of committed.keys()) {
      if (!built.has(name)) problems.push(`dist/${name} is not built from src/`);
    }
    if (problems.length) {
      console.error(`the committed demo bundle is stale:\n- ${problems.join("\n- ")}`);
      console.error("rebuild it: (cd clients/web-demo && npm run build), then commit dist/");
      process.exit(1);
    }
    console.log(`dist/ matches its sources (${built.size} files)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
} else if (mode === "--size") {
  const files = readDir(dist);
  let raw = 0;
  let gz = 0;
  for (const [name, bytes] of [...files].sort()) {
    const zipped = gzipSync(bytes, { level: 9 }).length;
    raw += bytes.length;
    gz += zipped;
    console.log(`${name.padEnd(12)} ${String(bytes.length).padStart(7)} B minified ${String(zipped).padStart(7)} B gzip`);
  }
  console.log(`${"total".padEnd(12)} ${String(raw).padStart(7)} B minified ${String(gz).padStart(7)} B gzip`);
} else if (mode === undefined) {
  const built = await build();
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist);
  for (const [name, bytes] of built) writeFileSync(path.join(dist, name), bytes);
  console.log(`wrote ${[...built.keys()].map((n) => `dist/${n}`).join(", ")}`);
} else {
  console.error(`unknown option ${mode}; use --check or --size`);
  process.exit(2);
}
