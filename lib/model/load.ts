// Loads sites/*.yaml into a validated Topology, or throws InputError with every problem found.
import { byCodePoint } from './order.ts';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { z } from 'zod';
import { cdnSchema, siteSchema, type Cdn, type Site, type SourceMap, type Topology } from './schema.ts';
import { fsReason, InputError, sortDiagnostics, show, pathString, type Diagnostic } from './errors.ts';
import { describeIssue, keysAt, relevantIssues } from './issues.ts';
import { oldShapes } from './migrations.ts';
import { runRules } from './rules/index.ts';
import { FAILED, locate, parseYaml, toData, type Parsed } from './yaml-doc.ts';
import { isProblem, readInput, type InputProblem } from './read-input.ts';

export const GLOBAL_FILE = 'cdn.yaml';
const MAX_FILE_BYTES = 1024 * 1024;
const MISSING_GLOBAL = `missing: the global settings file ${GLOBAL_FILE} (image host, zone, anycast addresses, origin)`;

const SITES_FIX = 'pass the directory that holds cdn.yaml and the site files';

/**
 * Load every `*.yaml` in `dir`: `cdn.yaml` is global, each other file is one site. `argument`
 * names where `dir` came from in errors (`--sites`, `context anycdn:sites`).
 */
export function loadTopology(dir: string, argument = 'sites directory'): Topology {
  return loadTexts(readSiteTexts(dir, argument));
}

/** One site model file as read: its name in the directory, the path errors show, its text. */
export interface SiteText {
  name: string;
  file: string;
  text: string;
  global: boolean;
}

/**
 * The file-reading step of loadTopology: every `*.yaml` in `dir`, each a regular file inside it
 * read through lib/model/read-input.ts, or InputError naming every file that cannot be (and never any of
 * its content). `render` records these same texts in its manifest.
 */
export function readSiteTexts(dir: string, argument = 'sites directory'): SiteText[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'is a file, not a directory' : `cannot read: ${fsReason(e)}`;
    throw new InputError([{ file: dir, line: 1, col: 1, message: `${argument}: ${why}; ${SITES_FIX}` }]);
  }
  const texts: SiteText[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const name of names) {
    const file = displayPath(join(dir, name));
    const read = readSiteFile(join(dir, name), dir);
    if (typeof read === 'string') texts.push({ name, file, text: read, global: name === GLOBAL_FILE });
    else diagnostics.push({ file, line: 1, col: 1, message: read.problem });
  }
  if (!names.includes(GLOBAL_FILE)) {
    diagnostics.push({ file: join(displayPath(dir), GLOBAL_FILE), line: 1, col: 1, message: MISSING_GLOBAL });
  }
  if (diagnostics.length > 0) throw new InputError(sortDiagnostics(diagnostics));
  return texts;
}

/** The pure part of loading, for tests and property checks: file names and texts in, Topology out. */
export function loadTexts(inputs: { file: string; text: string; global: boolean }[]): Topology {
  const diagnostics: Diagnostic[] = [];
  let cdn: Cdn | undefined;
  let cdnParsed: Parsed | undefined;
  const sites: { site: Site; parsed: Parsed }[] = [];

  for (const input of inputs) {
    const parsed = parseYaml(input.file, input.text, diagnostics);
    if (!parsed) continue;
    const schema = input.global ? cdnSchema : siteSchema;
    const value = toData(parsed, diagnostics);
    if (value === FAILED) continue;
    // A mapping none of whose keys is the model's is some other file (a stray /etc/shadow reads
    // as one): say so in one line, and echo none of it.
    const own = keysAt(schema, []);
    const keys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
    if (keys.length > 0 && !keys.some((k) => own.includes(k))) {
      diagnostics.push({ file: input.file, line: 1, col: 1, message: `none of the keys is one of ${input.global ? GLOBAL_FILE : 'a site file'}'s (${own.filter((k) => k !== '$schema').join(', ')}); is this the right file?` });
      continue;
    }
    const old = oldShapes(input.global, value);
    for (const o of old) diagnostics.push({ ...locate(parsed, o.path, true), message: o.message });
    const dropped = old.flatMap((o) => (o.drop ? [o.drop] : []));
    const checked = dropped.length > 0 && value !== null && typeof value === 'object' ? Object.fromEntries(Object.entries(value).filter(([k]) => !dropped.includes(k))) : value;
    const result = (schema as z.ZodType).safeParse(checked ?? {});
    if (!result.success) {
      // What an old shape explains is said once, by its own message.
      const explained = (path: readonly PropertyKey[]) => old.some((o) => o.covers.every((k, i) => path[i] === k));
      for (const issue of relevantIssues(result.error.issues)) {
        if (!explained(issue.path as PropertyKey[])) diagnostics.push(...describeIssue(issue, value, schema, (p, atKey) => locate(parsed, p, atKey)));
      }
      continue;
    }
    if (old.length > 0) continue;
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

/** The text of one site file, or what is wrong with it in words (never its content). */
function readSiteFile(path: string, dir: string): string | { problem: string } {
  const read = readInput(path, { maxBytes: MAX_FILE_BYTES, within: dir });
  return isProblem(read) ? { problem: siteFileProblem(read) } : read;
}

function siteFileProblem(read: InputProblem): string {
  switch (read.kind) {
    case 'missing':
      return read.message === 'is a symlink to a missing file' ? 'cannot read: no such file (a symlink to a missing file?); fix or remove it' : `cannot read: ${read.message}; fix or remove it`;
    case 'directory':
      return 'is a directory, not a site file; remove it or rename it without .yaml';
    case 'special':
      return `${read.message}; a site file must be a regular file: remove it or rename it without .yaml`;
    case 'outside':
      return `${read.message}; a site file must lie inside the sites directory: copy it in, or remove the link`;
    case 'too-large':
      return `is larger than ${MAX_FILE_BYTES} bytes, the limit for a site file; split the site or shorten the file`;
    case 'not-utf8':
      return 'is not UTF-8 text (its content is not shown); save it as UTF-8, or remove it or rename it without .yaml';
    case 'unreadable':
      return `${read.message}; fix or remove it`;
  }
}

function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel.startsWith('..') || rel === '' ? p : rel;
}

export { pathString };
