// A TypeScript client as GraphQL Code Generator makes it from Mana's committed SDL, with no
// `scalars` configuration: the schema's scalar descriptions are all a client needs (docs/scalars.md).
// Usage: node codegen.mjs <schema.graphql> <operations.graphql> <output.ts>
import { readFile, writeFile } from "node:fs/promises";

import { codegen } from "@graphql-codegen/core";
import * as typescriptOperations from "@graphql-codegen/typescript-operations";
import { buildSchema, parse } from "graphql";

const [schemaPath, operationsPath, outputPath] = process.argv.slice(2);
const sdl = await readFile(schemaPath, "utf8");
const operations = await readFile(operationsPath, "utf8");

const output = await codegen({
  filename: outputPath,
  schema: parse(sdl),
  schemaAst: buildSchema(sdl),
  documents: [{ location: operationsPath, document: parse(operations) }],
  config: {},
  // typescript-operations 6 writes the enums and input types it needs itself (no `typescript` plugin).
  plugins: [{ typescriptOperations: {} }],
  pluginMap: { typescriptOperations },
});
await writeFile(outputPath, output);
