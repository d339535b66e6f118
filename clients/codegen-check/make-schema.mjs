// schema.json for urql's graphcache, as the README describes.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { getIntrospectedSchema, minifyIntrospectionQuery } from "@urql/introspection";

mkdirSync("src/generated", { recursive: true });
const sdl = readFileSync("../../schema.graphql", "utf8");
writeFileSync("src/generated/schema.json", JSON.stringify(minifyIntrospectionQuery(getIntrospectedSchema(sdl))));
