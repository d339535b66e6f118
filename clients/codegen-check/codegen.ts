// graphql-codegen on Parley's schema.graphql, as a frontend would run it:
// the client preset over operations written in TypeScript (src/app.ts), and
// the typescript + typescript-operations plugins over .graphql documents.
import type { CodegenConfig } from "@graphql-codegen/cli";

// DateTime is an RFC 3339 string in UTC; JSON is any JSON value.
const scalars = {
  DateTime: { input: "string", output: "string" },
  JSON: { input: "unknown", output: "unknown" },
};

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      documents: ["src/app.ts"],
      config: { scalars, enumsAsTypes: true, strictScalars: true },
    },
    // Every schema type, for code that works with the schema as a whole.
    "src/generated/schema.ts": {
      plugins: ["typescript"],
      config: { scalars, enumsAsTypes: true, strictScalars: true },
    },
    // The .graphql operations' result and variable types (since
    // typescript-operations 6 this file carries the inputs and enums it
    // uses, so it is generated apart from schema.ts).
    "src/generated/operations.ts": {
      documents: ["operations/*.graphql"],
      plugins: ["typescript-operations"],
      config: { scalars, enumsAsTypes: true, strictScalars: true },
    },
  },
};

export default config;
