// Loads sites/*.yaml into a validated Topology, or throws InputError with every problem found.
import { byCodePoint } from './order.ts';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, isPair, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { cdnSchema, siteSchema, type Cdn, type Site, type SourceMap, type Topology } from './schema.ts';
import { fsReason, InputError, sortDiagnostics, show, pathString, type Diagnostic } from './errors.ts';
import { describeIssue, relevantIssues } from './issues.ts';
import { runRules } from './rules/index.ts';

export const GLOBAL_FILE = 'cdn.yaml';
const MAX_FILE_BYTES = 1024 * 1024;
/** How often aliases may expand in one file: enough for sharing a value, far below a "billion laughs". */
const MAX_ALIAS_COUNT = 100;
const MISSING_GLOBAL = `missing: the global settings file ${GLOBAL_FILE} (image host, zone, anycast addresses, origin)`;

interface Parsed {
  file: string;
  doc: Document;
  lines: LineCounter;
}

const SITES_FIX = 'pass the directory that holds cdn.yaml and the site files';

/**
 * Load every `*.yaml` in `dir`: `cdn.yaml` is global, each other file is one site. `argument`
 * names where `dir` came from in errors (`--sites`, `context anycdn:sites`).
 */
export function loadTopology(dir: string, argument = 'sites directory'): Topology {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'is a file, not a directory' : `cannot read: ${fsReason(e)}`;
    throw new InputError([{ file: dir, line: 1, col: 1, message: `${argument}: ${why}; ${SITES_FIX}` }]);
  }
  const files = names.map((n) => {
    const path = join(dir, n);
    return { name: n, path: displayPath(path) };
  });
  const texts = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  for (const f of files) {
    const read = readSiteFile(join(dir, f.name));
    if (typeof read === 'string') texts.set(f.path, read);
    else diagnostics.push({ file: f.path, line: 1, col: 1, message: read.message });
  }
  if (!files.some((f) => f.name === GLOBAL_FILE)) {
    diagnostics.push({ file: join(displayPath(dir), GLOBAL_FILE), line: 1, col: 1, message: MISSING_GLOBAL });
  }
  if (diagnostics.length > 0) throw new InputError(sortDiagnostics(diagnostics));
  return loadTexts(
    [...texts.entries()].map(([file, text]) => ({ file, text, global: file.endsWith(`/${GLOBAL_FILE}`) || file === GLOBAL_FILE })),
  );
}

/** The pure part of loading, for tests and property checks: file names and texts in, Topology out. */
export function loadTexts(inputs: { file: string; text: string; global: boolean }[]): Topology {
  const diagnostics: Diagnostic[] = [];
  let cdn: Cdn | undefined;
  let cdnParsed: Parsed | undefined;
  const sites: { site: Site; parsed: Parsed }[] = [];

  for (const input of inputs) {
    const parsed = parse(input.file, input.text, diagnostics);
    if (!parsed) continue;
    const schema = input.global ? cdnSchema : siteSchema;
    const value = toJS(parsed, diagnostics);
    if (value === FAILED) continue;
    const result = (schema as z.ZodType).safeParse(value ?? {});
    if (!result.success) {
      for (const issue of relevantIssues(result.error.issues)) diagnostics.push(...describeIssue(issue, value, schema, (p, atKey) => locate(parsed, p, atKey)));
      continue;
    }
    if (input.global) {
      cdn = result.data as Cdn;
      cdnParsed = parsed;
    } else {
      const site = result.data as Site;
      const stem = input.file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
      if (site.id !== stem) {
        diagnostics.push({ ...locate(parsed, ['id']), message: `id: must match the file name, got ${show(site.id)} in ${stem}.yaml; rename the file or the id` });
      }
      sites.push({ site, parsed });
    }
  }
  if (!inputs.some((i) => i.global)) {
    const dir = inputs[0]?.file.includes('/') ? inputs[0].file.replace(/\/[^/]*$/, '/') : '';
    diagnostics.push({ file: `${dir}${GLOBAL_FILE}`, line: 1, col: 1, message: MISSING_GLOBAL });
  }
  if (sites.length === 0 && diagnostics.length === 0) {
    diagnostics.push({ file: inputs[0]?.file ?? GLOBAL_FILE, line: 1, col: 1, message: 'no sites: add at least one sites/<id>.yaml next to cdn.yaml' });
  }
  if (diagnostics.length > 0 || !cdn || !cdnParsed) throw new InputError(sortDiagnostics(diagnostics));

  const byId = new Map(sites.map((s) => [s.site.id, s.parsed]));
  const globalParsed = cdnParsed;
  const sources: SourceMap = {
    fileOf: (id) => (id === null ? globalParsed.file : (byId.get(id)?.file ?? globalParsed.file)),
    position: (id, path) => locate(id === null ? globalParsed : (byId.get(id) ?? globalParsed), path),
  };
  // Rules run on the file order, so the indices in their paths point at the right YAML nodes.
  // Only then is everything sorted by its model key, which keeps rendering deterministic.
  const topology: Topology = { cdn, sites: sites.map((s) => s.site), sources };
  const ruleErrors = runRules(topology);
  if (ruleErrors.length > 0) throw new InputError(sortDiagnostics(ruleErrors));
  topology.sites.sort((a, b) => byCodePoint(a.id, b.id));
  for (const site of topology.sites) {
    site.hosts.sort((a, b) => byCodePoint(a.name, b.name));
    site.bgp.peers.sort((a, b) => byCodePoint(a.name, b.name));
  }
  return topology;
}

/** The text of one site file, or what is wrong with it in words. */
function readSiteFile(path: string): string | { message: string } {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) return { message: 'is a directory, not a site file; remove it or rename it without .yaml' };
    size = st.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { message: code === 'ENOENT' ? 'cannot read: no such file (a symlink to a missing file?); fix or remove it' : `cannot read: ${fsReason(e)}; fix or remove it` };
  }
  if (size > MAX_FILE_BYTES) return { message: `file is ${size} bytes; the limit is ${MAX_FILE_BYTES}` };
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    return { message: `cannot read: ${fsReason(e)}; fix or remove it` };
  }
}

function parse(file: string, text: string, diagnostics: Diagnostic[]): Parsed | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true });
  for (const e of doc.errors) {
    const pos = lines.linePos(e.pos[0]);
    diagnostics.push({ file, line: pos.line, col: pos.col, message: `yaml: ${yamlMessage(doc, e.code, e.pos[0], e.message)}` });
  }
  if (doc.errors.length > 0) return undefined;
  // Keys are names: a list, a mapping or nothing as a key cannot name a field (and would be
  // stringified into something like "[ a, b ]" by toJS).
  let badKeys = false;
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value !== null && typeof pair.key.value !== 'object') return;
      const at = (pair.key as Node | null)?.range?.[0] ?? (pair.value as Node | null)?.range?.[0] ?? 0;
      const pos = lines.linePos(at);
      diagnostics.push({ file, line: pos.line, col: pos.col, message: 'yaml: a key must be a plain name, not a list, a mapping or empty' });
      badKeys = true;
    },
  });
  if (badKeys) return undefined;
  if (doc.contents !== null && !isMap(doc.contents)) {
    diagnostics.push({ file, line: 1, col: 1, message: 'the file must hold a mapping of keys to values' });
    return undefined;
  }
  return { file, doc, lines };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').replace(/\.$/, '');
}

/** The yaml library's message in house style: lowercase, and naming the key or the fix where it can. */
function yamlMessage(doc: Document, code: string, offset: number, message: string): string {
  if (code === 'DUPLICATE_KEY') {
    let key: string | undefined;
    visit(doc, {
      Pair(_, pair) {
        if (isScalar(pair.key) && pair.key.range?.[0] === offset) key = String(pair.key.value);
      },
    });
    return key === undefined ? 'duplicate key; keep only one' : `duplicate key ${show(key)}; keep only one`;
  }
  if (code === 'MULTIPLE_DOCS') return 'more than one document (---) in the file; keep one mapping per file';
  const text = firstLine(message);
  if (/call stack/i.test(text)) return 'nested too deeply; flatten the value';
  return text.charAt(0).toLowerCase() + text.slice(1);
}

const FAILED = Symbol('failed');

/** The document as plain data. Alias problems surface only here, as exceptions; turn them into errors. */
function toJS(parsed: Parsed, diagnostics: Diagnostic[]): unknown {
  try {
    return parsed.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    let first: Node | undefined;
    let unresolved: { node: Node; name: string } | undefined;
    visit(parsed.doc, {
      Alias(_, alias) {
        first ??= alias;
        if (!unresolved && alias.resolve(parsed.doc) === undefined) unresolved = { node: alias, name: alias.source };
      },
    });
    const at = (node: Node | undefined) => {
      const pos = parsed.lines.linePos(node?.range?.[0] ?? 0);
      return { file: parsed.file, line: pos.line, col: pos.col };
    };
    if (unresolved) {
      diagnostics.push({ ...at(unresolved.node), message: `yaml: alias *${unresolved.name} has no anchor &${unresolved.name} before it; define the anchor first` });
    } else {
      diagnostics.push({ ...at(first), message: `yaml: aliases expand to more than ${MAX_ALIAS_COUNT} copies; write the values out instead of nesting anchors` });
    }
    return FAILED;
  }
}

/**
 * Position of the deepest node that exists along `path` (the key for a missing value). With
 * `atKey`, the key of the last step rather than its value: for unknown and malformed keys.
 */
function locate(parsed: Parsed, path: readonly PropertyKey[], atKey = false): { file: string; line: number; col: number } {
  let node: Node | null | undefined = parsed.doc.contents as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (const [step, key] of path.entries()) {
    if (!node) break;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) break;
      const keyNode = pair.key as Node;
      offset = keyNode.range?.[0] ?? offset;
      node = pair.value as Node | null;
      if (atKey && step === path.length - 1) break;
      if (node?.range && !isMap(node) && !(node as { items?: unknown }).items) offset = node.range[0];
    } else if ((node as { items?: unknown[] }).items && typeof key === 'number') {
      const item: Node | undefined = (node as unknown as { items: Node[] }).items[key];
      if (!item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else break;
  }
  const pos = parsed.lines.linePos(offset);
  return { file: parsed.file, line: pos.line, col: pos.col };
}


function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel.startsWith('..') || rel === '' ? p : rel;
}

export { pathString };
