// The published JSON Schemas of the model, generated from the zod schema, for editors
// (yaml-language-server reads the `# yaml-language-server: $schema=...` line in sites/*.yaml).
import * as z from 'zod';
import { cdnSchema, siteSchema } from './schema.ts';

export const SCHEMA_FILES = {
  'schema/cdn.schema.json': cdnSchema,
  'schema/site.schema.json': siteSchema,
} as const;

/** File name -> JSON Schema object. */
export function jsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [file, schema] of Object.entries(SCHEMA_FILES)) {
    // io: 'input' documents what a user may write: fields with defaults are optional there.
    out[file] = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-7' });
  }
  return out;
}

/** File name -> JSON text, exactly as committed. */
export function jsonSchemaTexts(): Record<string, string> {
  return Object.fromEntries(Object.entries(jsonSchemas()).map(([file, json]) => [file, `${JSON.stringify(json, null, 2)}\n`]));
}
