// Validates an OpenAPI document (file path argument) with @apidevtools/swagger-parser: against the official JSON Schema
// of its OpenAPI version, and every $ref must resolve. Exit 0 when valid.
import SwaggerParser from "@apidevtools/swagger-parser";
import { readFileSync } from "node:fs";

const file = process.argv[2];
try {
  const api = await SwaggerParser.validate(JSON.parse(readFileSync(file, "utf8")));
  console.log(`valid: ${api.info.title} ${api.info.version}, OpenAPI ${api.openapi}, ${Object.keys(api.paths).length} paths`);
} catch (e) {
  console.error(`invalid: ${e.message}`);
  process.exit(1);
}
