// Regenerates src/generated/ from ../../schema.graphql and the operations,
// and fails when the result differs from what is committed (like the
// schema.graphql check of the Rust tests): run `npm run codegen` and
// commit the output.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const dir = "src/generated";
const read = () => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(`${dir}/${f}`, "utf8")]));
const before = read();
execFileSync("npx", ["graphql-codegen", "--config", "codegen.ts", "--silent"], { stdio: "inherit" });
const after = read();
const stale = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((f) => before[f] !== after[f]);
if (stale.length) {
  console.error(`stale generated files (now regenerated; commit them): ${stale.join(", ")}`);
  process.exit(1);
}
console.log(`generated files are up to date: ${Object.keys(after).join(", ")}`);
