// The committed JSON Schemas must match the zod schema; `npm run schema` refreshes them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { jsonSchemaTexts } from '../../lib/model/json-schema.ts';
import { SITES_DIR, shippedTexts } from '../helpers/topology.ts';

const root = join(import.meta.dirname, '..', '..');

describe('published JSON Schema', () => {
  it.each(Object.entries(jsonSchemaTexts()))('%s is current (run `npm run schema` if not)', (file, text) => {
    expect(readFileSync(join(root, file), 'utf8')).toBe(text);
  });

  it('is referenced from every shipped YAML file', () => {
    for (const [file, text] of Object.entries(shippedTexts())) {
      const want = file.endsWith('/cdn.yaml') ? 'cdn.schema.json' : 'site.schema.json';
      expect(text.split('\n')[0], file).toBe(`# yaml-language-server: $schema=../schema/${want}`);
    }
  });

  it('rejects unknown keys and documents defaults', () => {
    const site = JSON.parse(jsonSchemaTexts()['schema/site.schema.json']!);
    expect(site.additionalProperties).toBe(false);
    expect(site.properties.bgp.properties.holdTimeSec.default).toBe(9);
    expect(Object.keys(parse(readFileSync(join(SITES_DIR, 'ams.yaml'), 'utf8'))).every((k) => k in site.properties)).toBe(true);
  });
});
