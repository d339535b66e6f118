// The typed-document-node plugin imports `DocumentTypeDecoration` from
// @graphql-typed-document-node/core, a types-only package. The kit has no
// dependency besides graphql-ws, so the generated file declares the same
// interface itself (structurally identical, so the documents still fit
// anything that takes a DocumentTypeDecoration).
import { readFileSync, writeFileSync } from "node:fs";

for (const file of process.argv.slice(2)) {
  if (!file.endsWith("graphql.ts")) continue;
  const text = readFileSync(file, "utf8");
  const local =
    "/** As in @graphql-typed-document-node/core. */\n" +
    "export interface DocumentTypeDecoration<TResult, TVariables> {\n" +
    "  __apiType?: (variables: TVariables) => TResult;\n" +
    "}";
  const out = text.replace(
    /^import type \{ DocumentTypeDecoration \} from '@graphql-typed-document-node\/core';$/m,
    local,
  );
  if (out !== text) writeFileSync(file, out);
}
