// Where a plan's "before" comes from: the manifest in out/ (the default), a directory laid out like
// render output (configs pulled from hosts), or the model at a git ref rendered in a temporary
// worktree with the current code. Each gives a tree, the model it came from when known (for the
// cloud templates), and warnings. The only module of plan that reads the trees or runs git; every
// file is read through lib/read-input.ts, inside the tree it belongs to.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { InputError, fsReason, type Diagnostic } from '../model/errors.ts';
import { loadTexts, loadTopology } from '../model/load.ts';
import { byCodePoint } from '../model/order.ts';
import type { Topology } from '../model/schema.ts';
import { isManifestProblem, MANIFEST_DIR, MANIFEST_PATH, readManifest, sha256Hex, modeString, type Manifest } from '../out/manifest.ts';
import { isProblem, readInput, type InputProblem } from '../read-input.ts';
import { ROUTING_DIR } from '../render/routing.ts';
import { outputPlans } from '../render/index.ts';
import { run } from '../run.ts';
import { soaSerial } from './classify.ts';
import { treeOf } from './compare.ts';
import type { Plan, Tree } from './types.ts';

export interface Baseline {
  info: Plan['baseline'];
  tree: Tree;
  /** The model the baseline was rendered from, when known: its cloud templates can be rebuilt. */
  topology?: Topology;
  warnings: string[];
  /** The manifest whose recorded model `topology` is, when it is one: errors in that model name it. */
  manifestFile?: string;
}

const bad = (file: string, message: string) => new InputError([{ file, line: 1, col: 1, message }]);

/** The most bytes one file of a baseline tree may hold (rendered configs are kilobytes). */
export const MAX_TREE_FILE_BYTES = 16 * 1024 * 1024;
/** The most files a baseline tree may hold: a render of 300 sites writes about 10,000. */
export const MAX_TREE_FILES = 100_000;

/** What to say when the model recorded in a manifest fails here: the fix is a new render, never an edit of that copy. */
export const RENDER_AGAIN = 'render again to record the current model, or pass --against <git-ref|dir>';

/**
 * Errors about the model recorded in `manifestFile` as one error on the manifest: their files
 * (`<manifest>:sites/ams.yaml`) exist only inside it, so the fix is to render again, never to edit
 * them. `what` says what failed ("no longer loads", "fails the cloud checks").
 */
export function recordedModelError(manifestFile: string, what: string, e: InputError): InputError {
  const prefix = `${manifestFile}:`;
  const first = e.diagnostics[0];
  const at = first ? `${first.file.startsWith(prefix) ? first.file.slice(prefix.length) : first.file}:${first.line}:${first.col}` : '';
  // Only what is wrong: the fix it names is an edit of the recorded copy, which no one can make.
  const message = first ? first.message.replaceAll(prefix, 'the recorded ').replace(/;.*$/, '') : '';
  const count = e.diagnostics.length === 1 ? '' : ` (${e.diagnostics.length} errors, the first shown)`;
  return bad(manifestFile, `the model recorded by the last render ${what}${count}: ${at}: ${message}; ${RENDER_AGAIN}`);
}

function manifestTopology(m: Manifest, where: string): Topology {
  try {
    return loadTexts(Object.entries(m.model.files).map(([name, text]) => ({ file: `${where}:sites/${name}`, text, global: name === 'cdn.yaml' })));
  } catch (e) {
    if (e instanceof InputError) throw recordedModelError(where, 'no longer loads', e);
    throw e;
  }
}

/** What to do about a file of a baseline tree that is not one render writes. */
const NOT_RENDERED = (kind: InputProblem['kind']) =>
  kind === 'outside' || kind === 'special' || kind === 'directory' ? 'render never writes one' : kind === 'unreadable' ? 'check its permissions' : 'render writes only UTF-8 text files under the limit';

/** A file of a baseline tree, or an error about it; undefined when it is missing. */
function readTreeFile(dir: string, path: string, fix: string): { content: string; mode: number } | Diagnostic | undefined {
  const file = join(dir, path);
  const text = readInput(file, { maxBytes: MAX_TREE_FILE_BYTES, within: dir });
  if (isProblem(text)) {
    if (text.kind === 'missing') return undefined;
    return { file, line: 1, col: 1, message: `${text.message}; ${NOT_RENDERED(text.kind)}: ${fix}` };
  }
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return undefined; // removed since it was read: as if it were missing
  }
  return { content: text, mode };
}

/** The last render recorded in `outDir`: its manifest, checked against the files on disk. */
export function outBaseline(outDir: string): Baseline {
  const m = readManifest(outDir);
  const file = join(outDir, MANIFEST_PATH);
  if (m === undefined) throw bad(file, `no record of a render in ${outDir}; run \`anycdn render\` first, or pass --against <git-ref|dir>`);
  if (isManifestProblem(m)) throw bad(file, `${m.what}; ${m.fix}`);
  const tree: Tree = new Map();
  const warnings: string[] = [];
  const errors: Diagnostic[] = [];
  // The manifest's paths are relative with no . or .. (parseManifest), and each is read only if
  // its real path lies inside outDir: a hand-edited entry cannot make plan read anything else.
  for (const e of m.files) {
    const read = readTreeFile(outDir, e.path, 'remove it and render again');
    if (read && 'message' in read) {
      errors.push(read);
      continue;
    }
    if (!read) warnings.push(`${join(outDir, e.path)}: recorded in the manifest but missing; its diff is against an empty file`);
    else {
      if (sha256Hex(read.content) !== e.sha256) warnings.push(`${join(outDir, e.path)} differs from the manifest: edited after \`anycdn render\`; the diff is against the file on disk`);
      if (modeString(read.mode) !== e.mode) warnings.push(`${join(outDir, e.path)}: mode ${modeString(read.mode)} on disk, ${e.mode} in the manifest`);
    }
    tree.set(e.path, { content: read?.content ?? '', mode: Number.parseInt(e.mode, 8), soaSerial: e.soaSerial });
  }
  if (errors.length > 0) throw new InputError(errors);
  for (const p of walk(outDir)) if (!tree.has(p)) warnings.push(`${join(outDir, p)} is not in the manifest: not written by \`anycdn render\``);
  return { info: { kind: 'out', source: `${outDir} (manifest)`, commit: m.model.commit }, tree, topology: manifestTopology(m, file), warnings, manifestFile: file };
}

/**
 * Every entry under `dir` that is not a directory (a symlink is not followed, and is listed), as
 * <site>/<host>/<path>, skipping the tree's own directories (the manifest, out/routing/). At most
 * MAX_TREE_FILES: `--against /` is refused rather than walked.
 */
function walk(dir: string): string[] {
  const out: string[] = [];
  const go = (rel: string) => {
    let entries;
    try {
      entries = readdirSync(join(dir, rel), { withFileTypes: true });
    } catch (e) {
      throw bad(join(dir, rel), `cannot list: ${fsReason(e)}; check its permissions`);
    }
    for (const e of entries.sort((a, b) => byCodePoint(a.name, b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === MANIFEST_DIR || r === ROUTING_DIR) continue;
      if (e.isDirectory()) go(r);
      else out.push(r);
      if (out.length > MAX_TREE_FILES) throw bad(dir, `holds more than ${MAX_TREE_FILES} files, which is no render's tree; pass the directory of one render`);
    }
  };
  go('');
  return out;
}

/** A tree laid out like render output, such as configs pulled from the hosts. */
export function dirBaseline(dir: string): Baseline {
  const tree: Tree = new Map();
  const warnings: string[] = [];
  const errors: Diagnostic[] = [];
  for (const p of walk(dir)) {
    if (p.split('/').length < 3) {
      warnings.push(`${join(dir, p)} is not under <site>/<host>/; ignored`);
      continue;
    }
    const read = readTreeFile(dir, p, 'remove it from the tree, or pass another --against');
    if (read && 'message' in read) errors.push(read);
    else if (read) tree.set(p, { ...read, soaSerial: p.endsWith('.zone') ? soaSerial(read.content) : undefined });
  }
  if (errors.length > 0) throw new InputError(errors);
  const m = readManifest(dir);
  if (isManifestProblem(m)) warnings.push(`${join(dir, MANIFEST_PATH)} ${m.what}: its model is not used, so the cloud stacks are not compared`);
  const manifest = m && !isManifestProblem(m) ? m : undefined;
  const topology = manifest ? manifestTopology(manifest, join(dir, MANIFEST_PATH)) : undefined;
  return { info: { kind: 'dir', source: dir, commit: manifest ? manifest.model.commit : null }, tree, ...(topology ? { topology, manifestFile: join(dir, MANIFEST_PATH) } : {}), warnings };
}

/** Is `ref` a commit in the repository holding `sitesDir`; its full id if so. */
export async function gitCommit(sitesDir: string, ref: string): Promise<string | undefined> {
  if (ref.startsWith('-')) return undefined;
  const r = await run('git', ['-C', sitesDir, 'rev-parse', '--verify', '-q', `${ref}^{commit}`], { timeoutMs: 10_000 });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/**
 * The model at `commit`, rendered with the current code: the ref's whole tree is checked out in a
 * temporary worktree (removed afterwards, whatever happens) and its copy of the sites directory
 * is loaded.
 */
export async function gitBaseline(sitesDir: string, ref: string, commit: string): Promise<Baseline> {
  const top = (await run('git', ['-C', sitesDir, 'rev-parse', '--show-toplevel'], { timeoutMs: 10_000 })).stdout.trim();
  const rel = relative(top, resolve(sitesDir));
  if (rel.startsWith('..')) throw bad(sitesDir, `--sites is outside the repository ${top}; --against <git-ref> needs the model in git`);
  const parent = mkdtempSync(join(tmpdir(), 'anycdn-plan-'));
  const wt = join(parent, 'worktree');
  try {
    const add = await run('git', ['-C', top, 'worktree', 'add', '--detach', '--quiet', wt, commit], { timeoutMs: 60_000 });
    if (add.code !== 0) throw bad(ref, `--against: cannot check out ${ref}: ${add.stderr.trim().split('\n')[0]}`);
    const at = join(wt, rel);
    let topology: Topology;
    try {
      topology = loadTopology(at, `--against ${ref}`);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      // Name the ref, not the temporary worktree: `HEAD~1:sites/ams.yaml:12:5: ...`.
      const rename = (f: string) => {
        const abs = resolve(f);
        return abs === wt || abs.startsWith(wt + sep) ? `${ref}:${relative(wt, abs)}` : f;
      };
      throw new InputError(e.diagnostics.map((d) => ({ ...d, file: rename(d.file), message: d.message.replaceAll(wt, ref) })));
    }
    return { info: { kind: 'git', source: `${ref} (${commit.slice(0, 12)})`, commit }, tree: treeOf(outputPlans(topology)), topology, warnings: [] };
  } finally {
    await run('git', ['-C', top, 'worktree', 'remove', '--force', wt], { timeoutMs: 60_000 });
    rmSync(parent, { recursive: true, force: true });
    await run('git', ['-C', top, 'worktree', 'prune'], { timeoutMs: 60_000 });
  }
}
