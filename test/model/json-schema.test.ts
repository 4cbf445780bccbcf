// The committed JSON Schemas must match the zod schema; `npm run schema` refreshes them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { jsonSchemas, jsonSchemaTexts } from '../../lib/model/json-schema.ts';
import { fieldTable, updateReadme } from '../../lib/model/readme-tables.ts';
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

describe('docs/model.md model tables', () => {
  const readme = readFileSync(join(root, 'docs', 'model.md'), 'utf8');

  it('are current (run `npm run schema` if not)', () => {
    expect(readme).toBe(updateReadme(readme));
  });

  it('show each default the schema gives its field, and the required fields', () => {
    const site = fieldTable(jsonSchemas()['schema/site.schema.json'] as object).split('\n');
    const rowOf = (field: string) => site.find((l) => l.startsWith(`| \`${field}\` |`));
    // The README once said 20000 here while the schema said 8000 (issue 10).
    expect(rowOf('haproxy.maxConn')).toBe('| `haproxy.maxConn` | Connections per lb host; each takes two file descriptors. | 8000 |');
    expect(rowOf('vip.preempt')).toMatch(/ \| `\{delaySec: 10\}` \|$/);
    expect(rowOf('bgp.peers[].name')).toMatch(/ \| required \|$/);
    expect(rowOf('haproxy.https.certPath')).toMatch(/ \| required in `haproxy.https` \|$/);
    expect(rowOf('hosts[].address6')).toMatch(/ \| optional \|$/);
  });

  it('refuse a document without the markers, naming them', () => {
    expect(() => updateReadme('# no tables here\n')).toThrow(/docs\/model.md has no <!-- BEGIN generated: cdn fields/);
  });

  it('refuse a field without a meaning', () => {
    expect(() => fieldTable({ type: 'object', properties: { x: { type: 'number', default: 1 } } })).toThrow(/x has no \.describe\(\)/);
  });
});
