// Shared fixtures: the shipped site texts, and loading edited copies of them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTexts } from '../../lib/model/load.ts';
import type { Topology } from '../../lib/model/schema.ts';

export const SITES_DIR = join(import.meta.dirname, '..', '..', 'sites');

/** The shipped files as { 'sites/ams.yaml': text, ... }. */
export function shippedTexts(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(SITES_DIR).filter((n) => n.endsWith('.yaml')).sort()) {
    out[`sites/${n}`] = readFileSync(join(SITES_DIR, n), 'utf8');
  }
  return out;
}

/** Load the shipped model after `edit` changes some texts. */
export function loadEdited(edit: (texts: Record<string, string>) => void = () => {}): Topology {
  const texts = shippedTexts();
  edit(texts);
  return loadTexts(Object.entries(texts).map(([file, text]) => ({ file, text, global: file.endsWith('/cdn.yaml') })));
}
