// `npm run schema`: rewrite schema/*.json from the zod schema.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchemaTexts } from './json-schema.ts';

const root = join(import.meta.dirname, '..', '..');
for (const [file, text] of Object.entries(jsonSchemaTexts())) {
  writeFileSync(join(root, file), text);
  console.log(`wrote ${file}`);
}
