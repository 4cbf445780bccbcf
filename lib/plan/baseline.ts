// Where a plan's "before" comes from: the manifest in out/ (the default), a directory laid out like
// render output (configs pulled from hosts), or the model at a git ref rendered in a temporary
// worktree with the current code. Each gives a tree, the model it came from when known (for the
// cloud templates), and warnings. The only module of plan that touches the disk or runs git.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { InputError, fsReason } from '../model/errors.ts';
import { loadTexts, loadTopology } from '../model/load.ts';
import { byCodePoint } from '../model/order.ts';
import type { Topology } from '../model/schema.ts';
import { isManifestProblem, MANIFEST_DIR, MANIFEST_PATH, readManifest, sha256Hex, modeString, type Manifest } from '../out/manifest.ts';
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
}

const bad = (file: string, message: string) => new InputError([{ file, line: 1, col: 1, message }]);

function manifestTopology(m: Manifest, where: string): Topology {
  try {
    return loadTexts(Object.entries(m.model.files).map(([name, text]) => ({ file: `${where}:sites/${name}`, text, global: name === 'cdn.yaml' })));
  } catch (e) {
    if (e instanceof InputError) throw bad(where, `the recorded model no longer loads (${e.diagnostics.length} errors, first: ${e.diagnostics[0]?.message}); render again, or pass --against`);
    throw e;
  }
}

/** The last render recorded in `outDir`: its manifest, checked against the files on disk. */
export function outBaseline(outDir: string): Baseline {
  const m = readManifest(outDir);
  const file = join(outDir, MANIFEST_PATH);
  if (m === undefined) throw bad(file, `no record of a render in ${outDir}; run \`anycdn render\` first, or pass --against <git-ref|dir>`);
  if (isManifestProblem(m)) throw bad(file, `${m.what}; ${m.fix}`);
  const tree: Tree = new Map();
  const warnings: string[] = [];
  for (const e of m.files) {
    let content: string | undefined;
    let mode: number | undefined;
    try {
      content = readFileSync(join(outDir, e.path), 'utf8');
      mode = statSync(join(outDir, e.path)).mode & 0o777;
    } catch (err) {
      warnings.push(`${join(outDir, e.path)}: recorded in the manifest but unreadable (${fsReason(err)}); its diff is against an empty file`);
    }
    if (content !== undefined && sha256Hex(content) !== e.sha256) warnings.push(`${join(outDir, e.path)} differs from the manifest: edited after \`anycdn render\`; the diff is against the file on disk`);
    if (mode !== undefined && modeString(mode) !== e.mode) warnings.push(`${join(outDir, e.path)}: mode ${modeString(mode)} on disk, ${e.mode} in the manifest`);
    tree.set(e.path, { content: content ?? '', mode: Number.parseInt(e.mode, 8), soaSerial: e.soaSerial });
  }
  for (const p of walk(outDir)) if (!tree.has(p)) warnings.push(`${join(outDir, p)} is not in the manifest: not written by \`anycdn render\``);
  return { info: { kind: 'out', source: `${outDir} (manifest)`, commit: m.model.commit }, tree, topology: manifestTopology(m, file), warnings };
}

/** Every file under `dir`, as <site>/<host>/<path>, skipping the tree's own directories (the manifest, out/routing/). */
function walk(dir: string): string[] {
  const out: string[] = [];
  const go = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => byCodePoint(a.name, b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === MANIFEST_DIR || r === ROUTING_DIR) continue;
      if (e.isDirectory()) go(r);
      else out.push(r);
    }
  };
  go('');
  return out;
}

/** A tree laid out like render output, such as configs pulled from the hosts. */
export function dirBaseline(dir: string): Baseline {
  const tree: Tree = new Map();
  const warnings: string[] = [];
  for (const p of walk(dir)) {
    if (p.split('/').length < 3) {
      warnings.push(`${join(dir, p)} is not under <site>/<host>/; ignored`);
      continue;
    }
    const content = readFileSync(join(dir, p), 'utf8');
    tree.set(p, { content, mode: statSync(join(dir, p)).mode & 0o777, soaSerial: p.endsWith('.zone') ? soaSerial(content) : undefined });
  }
  const m = readManifest(dir);
  const topology = m && !isManifestProblem(m) ? manifestTopology(m, join(dir, MANIFEST_PATH)) : undefined;
  return { info: { kind: 'dir', source: dir, commit: m && !isManifestProblem(m) ? m.model.commit : null }, tree, ...(topology ? { topology } : {}), warnings };
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
