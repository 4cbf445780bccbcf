// The YAML layer of the loader: a site file's text into a document with positions, every YAML
// problem as a `file:line:col` diagnostic, the document as plain data, and the position of any
// model path inside it. Merge keys (`<<: *defaults`) are YAML 1.1's way of sharing a mapping and
// are supported; a path whose value comes from a merged mapping is located where it is written.
//
// Everything here is linear in the file (issue 24: 60,000 unknown keys took 249 s): the yaml
// library's own duplicate-key check compares each key with every earlier one and its alias
// lookup scans the document for each alias, so keys are checked here with one set per mapping,
// aliases are resolved in one pass, and their number is capped.
import { isAlias, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { printable, show, type Diagnostic } from './errors.ts';

export interface Parsed {
  file: string;
  doc: Document;
  lines: LineCounter;
  /** Each alias and the node it stands for (the last anchor of its name before it). */
  aliases: Map<Alias, Node>;
}

type Position = { file: string; line: number; col: number };

/** How often aliases may expand in one file: enough for sharing a value, far below a "billion laughs". */
export const MAX_ALIAS_COUNT = 100;
/** Aliases in one file: a site file shares a few values, not thousands. */
export const MAX_ALIASES = 1000;

/** Parses `text`; on any YAML problem reports it and returns undefined. */
export function parseYaml(file: string, text: string, diagnostics: Diagnostic[]): Parsed | undefined {
  const lines = new LineCounter();
  // uniqueKeys: false, because checkKeys does the same with a set per mapping (see the top).
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, merge: true, prettyErrors: false, strict: true });
  const at = (offset: number): Position => {
    const pos = lines.linePos(offset);
    return { file, line: pos.line, col: pos.col };
  };
  // A file that is not a mapping is not a site file: one line, and nothing of what it holds.
  if (doc.contents !== null && !isMap(doc.contents)) {
    diagnostics.push({ file, line: 1, col: 1, message: 'the file must hold a mapping of keys to values' });
    return undefined;
  }
  for (const e of doc.errors) diagnostics.push({ ...at(e.pos[0]), message: `yaml: ${yamlMessage(e.code, e.message)}` });
  if (doc.errors.length > 0) return undefined;
  const before = diagnostics.length;
  const aliases = checkNodes(doc, at, diagnostics);
  if (diagnostics.length > before) return undefined;
  return { file, doc, lines, aliases };
}

const FAILED = Symbol('failed');
export { FAILED };

/** The document as plain data, or FAILED after reporting why. */
export function toData(parsed: Parsed, diagnostics: Diagnostic[]): unknown {
  try {
    return parsed.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (e) {
    // Unresolved and self-containing aliases are reported by parseYaml; what is left is the
    // library's guard against exponential expansion.
    if (!(e instanceof ReferenceError)) throw e;
    const first = parsed.aliases.keys().next().value as Alias | undefined;
    const pos = parsed.lines.linePos(first?.range?.[0] ?? 0);
    diagnostics.push({ file: parsed.file, line: pos.line, col: pos.col, message: `yaml: aliases expand to more than ${MAX_ALIAS_COUNT} copies; write the values out instead of nesting anchors` });
    return FAILED;
  }
}

/**
 * One pass over the document in order: keys are plain names and unique per mapping, every alias
 * has an anchor before it that does not contain it, there are not too many aliases, and merge
 * keys merge mappings. Returns the alias resolution.
 */
function checkNodes(doc: Document, at: (offset: number) => Position, diagnostics: Diagnostic[]): Map<Alias, Node> {
  const anchors = new Map<string, Node>();
  const aliases = new Map<Alias, Node>();
  const maps: YAMLMap[] = [];
  let count = 0;
  visit(doc, (_key, node, path) => {
    if (isNode(node) && node.anchor) anchors.set(node.anchor, node);
    if (isAlias(node)) {
      count += 1;
      if (count === MAX_ALIASES + 1) diagnostics.push({ ...at(node.range?.[0] ?? 0), message: `yaml: more than ${MAX_ALIASES} aliases in one file; write the values out` });
      if (count > MAX_ALIASES) return visit.SKIP;
      const target = anchors.get(node.source);
      const name = aliasName(node.source);
      if (!target) diagnostics.push({ ...at(node.range?.[0] ?? 0), message: `yaml: alias *${name} has no anchor &${name} before it; define the anchor first` });
      else if (path.includes(target)) diagnostics.push({ ...at(node.range?.[0] ?? 0), message: `yaml: alias *${name} is inside the value anchored &${name}, which cannot contain itself; write the value out` });
      else aliases.set(node, target);
    } else if (isMap(node)) {
      maps.push(node);
      checkKeys(node, at, diagnostics);
    }
    return undefined;
  });
  for (const map of maps) {
    for (const pair of map.items) {
      if (!isMergeKey(pair.key)) continue;
      const value = pair.value as Node | null;
      const sources = isSeq(value) ? (value.items as Node[]) : [value];
      // An unresolved alias is reported above; anything else must be (an alias of) a mapping.
      const bad = sources.find((s) => !isMap(s) && !(isAlias(s) && (!aliases.has(s) || isMap(aliases.get(s)))));
      if (bad !== undefined || sources.length === 0) {
        const offset = (bad as Node | null | undefined)?.range?.[0] ?? (pair.key as Node).range?.[0] ?? 0;
        diagnostics.push({ ...at(offset), message: 'yaml: a merge key (<<) takes a mapping, an alias of one (<<: *defaults) or a list of them' });
      }
    }
  }
  return aliases;
}

/** Keys are names: a list, a mapping or nothing cannot name a field, and each name appears once. */
function checkKeys(map: YAMLMap, at: (offset: number) => Position, diagnostics: Diagnostic[]): void {
  const seen = new Set<string>();
  for (const pair of map.items) {
    const key = pair.key as Node | null;
    if (isMergeKey(key)) continue;
    if (!isScalar(key) || key.value === null || typeof key.value === 'object') {
      const offset = key?.range?.[0] ?? (pair.value as Node | null)?.range?.[0] ?? 0;
      diagnostics.push({ ...at(offset), message: 'yaml: a key must be a plain name, not a list, a mapping or empty' });
      continue;
    }
    // As toJS will name it: 1 and "1" are one key there.
    const name = String(key.value);
    if (seen.has(name)) diagnostics.push({ ...at(key.range?.[0] ?? 0), message: `yaml: duplicate key ${show(name)}; keep only one` });
    seen.add(name);
  }
}

/**
 * With `merge: true`, the library reads a plain `<<` key as a scalar holding a symbol; a tagged
 * one (`!foo <<:`) stays the string "<<", yet toJS still merges it. Both are merge keys here, so
 * the checks above see every key toJS will merge (a quoted "<<" is an ordinary key).
 */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && (typeof key.value === 'symbol' || (key.value === '<<' && key.type === 'PLAIN'));
}

/** An anchor name as a message shows it: itself when plain, else quoted and cut. */
function aliasName(name: string): string {
  return /^[A-Za-z0-9_.-]{1,40}$/.test(name) ? name : show(name);
}

/** The yaml library's message in house style: one line, lowercase, no position, nothing unbounded. */
function yamlMessage(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS') return 'more than one document (---) in the file; keep one mapping per file';
  const text = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').replace(/\.$/, '');
  if (/call stack/i.test(text)) return 'nested too deeply; flatten the value';
  // Some messages quote the source (an unresolved tag, an escape sequence): show a bounded piece.
  return printable(text.charAt(0).toLowerCase() + text.slice(1), 160);
}

// ---------------------------------------------------------------- positions of model paths

interface PairIndex {
  keys: Map<string, Pair>;
  /** The values of the mapping's merge keys, in order: earlier ones win. */
  merges: Node[];
}

const indexes = new WeakMap<YAMLMap, PairIndex>();

/** The mapping's pairs by key, built once: a lookup per key, not a scan per lookup. */
function indexOf(map: YAMLMap): PairIndex {
  let index = indexes.get(map);
  if (index) return index;
  index = { keys: new Map(), merges: [] };
  for (const pair of map.items) {
    if (isMergeKey(pair.key)) {
      const value = pair.value as Node | null;
      if (isSeq(value)) index.merges.push(...(value.items as Node[]));
      else if (value) index.merges.push(value);
    } else if (isScalar(pair.key)) {
      const name = String(pair.key.value);
      if (!index.keys.has(name)) index.keys.set(name, pair);
    }
  }
  indexes.set(map, index);
  return index;
}

function deref(parsed: Parsed, node: Node | null | undefined): Node | null | undefined {
  return isAlias(node) ? parsed.aliases.get(node) : node;
}

/** The pair that gives `key` its value: the mapping's own, else the first merged mapping's. */
function findPair(parsed: Parsed, map: YAMLMap, key: string, depth = 0): Pair | undefined {
  const index = indexOf(map);
  const own = index.keys.get(key);
  if (own || depth > 32) return own;
  for (const source of index.merges) {
    const target = deref(parsed, source);
    const found = isMap(target) ? findPair(parsed, target, key, depth + 1) : undefined;
    if (found) return found;
  }
  return undefined;
}

/**
 * Position of the deepest node that exists along `path` (the key for a missing value). With
 * `atKey`, the key of the last step rather than its value: for unknown and malformed keys.
 * Through an alias, the path goes on inside the anchored value, where the text is.
 */
export function locate(parsed: Parsed, path: readonly PropertyKey[], atKey = false): Position {
  let node: Node | null | undefined = parsed.doc.contents as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (const [step, key] of path.entries()) {
    node = deref(parsed, node);
    if (!node) break;
    if (isMap(node)) {
      const pair = findPair(parsed, node, String(key));
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value as Node | null;
      if (atKey && step === path.length - 1) break;
      if (node?.range && !isMap(node) && !isSeq(node)) offset = node.range[0];
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined;
      if (!item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else break;
  }
  const pos = parsed.lines.linePos(offset);
  return { file: parsed.file, line: pos.line, col: pos.col };
}
