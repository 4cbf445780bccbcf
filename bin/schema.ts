// `npm run schema`: rewrite schema/*.json and docs/model.md's model tables from the zod schema, and
// the JSON Schemas of the CLI's --json output (lib/cli/schemas/) from theirs. A build script: it
// writes files, so it lives with the other entry points, above every layer it reads.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cliSchemaTexts } from '../lib/cli/schemas.ts';
import { jsonSchemaTexts } from '../lib/model/json-schema.ts';
import { updateReadme } from '../lib/model/readme-tables.ts';

const root = join(import.meta.dirname, '..');
for (const [file, text] of Object.entries({ ...jsonSchemaTexts(), ...cliSchemaTexts() })) {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
  console.log(`wrote ${file}`);
}
const readme = join(root, 'docs', 'model.md');
const before = readFileSync(readme, 'utf8');
const after = updateReadme(before);
if (after !== before) writeFileSync(readme, after);
console.log(after === before ? 'docs/model.md model tables are current' : 'wrote docs/model.md model tables');
