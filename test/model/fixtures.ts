// Fixtures for the model tests: the shipped sites/*.yaml as texts, small edits of them, and the
// loader's errors as the exact lines the CLI prints.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { InputError, formatDiagnostic } from '../../lib/model/errors.ts';
import { loadTexts } from '../../lib/model/load.ts';
import type { Topology } from '../../lib/model/schema.ts';

/**
 * A pinned copy of the shipped sites/*.yaml. The tests assert exact line:col positions, so they
 * edit this copy rather than sites/ itself: adding a comment to the shipped example must not move
 * a hundred expected positions. rules.test.ts checks that the shipped files still load, and
 * refreshing the copy is `cp sites/*.yaml test/model/sites/` plus updating the positions.
 */
const SITES_DIR = join(import.meta.dirname, 'sites');
export const SHIPPED_DIR = join(import.meta.dirname, '..', '..', 'sites');

/** The pinned example files, keyed by display path (sites/ams.yaml, sites/cdn.yaml, ...). */
export type Texts = Record<string, string>;

export function shipped(): Texts {
  const out: Texts = {};
  for (const name of readdirSync(SITES_DIR).filter((n) => n.endsWith('.yaml')).sort()) {
    out[`sites/${name}`] = readFileSync(join(SITES_DIR, name), 'utf8');
  }
  return out;
}

/** Replace exactly one occurrence of `from` in `file` (throws if it is missing or ambiguous). */
export function replace(texts: Texts, file: string, from: string, to: string): Texts {
  const text = texts[file];
  if (text === undefined) throw new Error(`fixture: no file ${file}`);
  const at = text.indexOf(from);
  if (at < 0) throw new Error(`fixture: ${JSON.stringify(from)} not in ${file}`);
  if (text.indexOf(from, at + 1) >= 0) throw new Error(`fixture: ${JSON.stringify(from)} is ambiguous in ${file}`);
  return { ...texts, [file]: text.slice(0, at) + to + text.slice(at + from.length) };
}

/** Apply several single-occurrence replacements, in order. */
export function edit(texts: Texts, ...edits: [file: string, from: string, to: string][]): Texts {
  return edits.reduce((t, [file, from, to]) => replace(t, file, from, to), texts);
}

/** Set a value at a YAML path (comments and layout of the rest kept). */
export function setIn(texts: Texts, file: string, path: (string | number)[], value: unknown): Texts {
  const doc = parseDocument(texts[file]!);
  doc.setIn(path, value);
  return { ...texts, [file]: doc.toString() };
}

export function inputs(texts: Texts): { file: string; text: string; global: boolean }[] {
  return Object.entries(texts).map(([file, text]) => ({ file, text, global: file.endsWith('/cdn.yaml') }));
}

export function load(texts: Texts): Topology {
  return loadTexts(inputs(texts));
}

/** The error lines the loader reports for `texts`, formatted as the CLI prints them. */
export function errors(texts: Texts): string[] {
  try {
    loadTexts(inputs(texts));
  } catch (e) {
    if (e instanceof InputError) return e.diagnostics.map(formatDiagnostic);
    throw e;
  }
  return [];
}
