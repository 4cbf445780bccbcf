// anycdn render: load the model, render every host, replace --out atomically.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { PROMETHEUS_HOST } from '../monitoring/prometheus.ts';
import { byCodePoint } from '../model/order.ts';
import { fsReason, InputError } from '../model/errors.ts';
import { loadTopology } from '../model/load.ts';
import { IDENT } from '../model/text.ts';
import { renderTopology } from '../render/index.ts';
import { ROUTING_DIR, routingFiles } from '../render/routing.ts';
import { writeTreeAtomically } from '../out/write.ts';
import { buildManifest, MANIFEST_DIR, MANIFEST_PATH, manifestText, readManifest, readModelFiles, zoneContext } from '../out/manifest.ts';
import { modelCommit } from '../out/commit.ts';
import type { RenderedFile } from '../render/types.ts';
import { byoipFromCdkJson } from './byoip.ts';
import { EXIT, type Io } from './report.ts';
import type { RenderOutput } from './schemas.ts';

export async function renderCommand(opts: { sites: string; out: string; json?: boolean }, io: Io): Promise<number> {
  // Every error at once: a bad --out is reported together with the model's errors.
  const problem = outProblem(opts.out, opts.sites);
  const outErrors = problem ? [{ file: opts.out, line: 1, col: 1, message: `--out: ${problem}` }] : [];
  let topology;
  try {
    topology = loadTopology(opts.sites, '--sites');
  } catch (e) {
    if (e instanceof InputError) throw new InputError([...e.diagnostics, ...outErrors]);
    throw e;
  }
  // The previous render's record: zone serials count on from it (lib/render/serial.ts).
  const previous = readManifest(opts.out);
  if (typeof previous === 'string') outErrors.push({ file: `${opts.out}/${MANIFEST_PATH}`, line: 1, col: 1, message: previous });
  if (outErrors.length > 0) throw new InputError(outErrors);
  const files = renderTopology(topology, previous && typeof previous !== 'string' ? zoneContext(previous.files) : {});
  const manifest = buildManifest(files, { commit: await modelCommit(opts.sites), files: readModelFiles(opts.sites) });
  const other = [...routingFiles(topology, { byoip: byoipFromCdkJson() }), { path: MANIFEST_PATH, content: manifestText(manifest) }];
  try {
    await writeTreeAtomically(opts.out, files, other);
  } catch (e) {
    if (typeof (e as NodeJS.ErrnoException).code !== 'string') throw e;
    throw new InputError([{ file: opts.out, line: 1, col: 1, message: `--out: cannot write: ${fsReason(e)}; check the directory and its permissions, or pass another --out` }]);
  }
  if (opts.json) {
    io.out(JSON.stringify(renderJson(resolve(opts.out), topology.sites.length, files, other)));
    return EXIT.ok;
  }
  const hosts = topology.sites.reduce((n, s) => n + s.hosts.length, 0);
  const prometheus = topology.cdn.monitoring ? ` (the Prometheus server's under ${join(opts.out, PROMETHEUS_HOST.site, PROMETHEUS_HOST.host)})` : '';
  io.out(`rendered ${files.length} files for ${hosts} hosts in ${topology.sites.length} sites to ${opts.out}${prometheus}, and the ROAs and IRR objects to ${join(opts.out, ROUTING_DIR)}`);
  return EXIT.ok;
}

/** render --json (lib/cli/schemas/render.schema.json): every file written, per host. */
export function renderJson(out: string, sites: number, files: RenderedFile[], other: { path: string; content: string }[]): RenderOutput {
  const hosts = new Map<string, RenderOutput['hosts'][number]>();
  for (const f of files) {
    const key = `${f.site}/${f.host}`;
    let h = hosts.get(key);
    if (!h) hosts.set(key, (h = { site: f.site, host: f.host, dir: join(out, f.site, f.host), files: [] }));
    h.files.push({ path: f.path, mode: `0${(f.mode & 0o777).toString(8).padStart(3, '0')}`, bytes: Buffer.byteLength(f.content) });
  }
  const rows = [...hosts.values()].sort((a, b) => byCodePoint(a.site, b.site) || byCodePoint(a.host, b.host));
  for (const h of rows) h.files.sort((a, b) => byCodePoint(a.path, b.path));
  const others = other.map((f) => ({ path: f.path, bytes: Buffer.byteLength(f.content) })).sort((a, b) => byCodePoint(a.path, b.path));
  return { out, sites, files: files.length, hosts: rows, other: others };
}

/**
 * Why --out cannot be replaced, before anything is written: render swaps the whole directory, so
 * it must be a directory (or nothing yet) and must not hold the model or the working directory.
 */
function outProblem(out: string, sites: string): string | undefined {
  const target = resolve(out);
  const within = (dir: string) => dir === target || target === sep || dir.startsWith(`${target}${sep}`);
  const own = 'pass a directory of its own, such as ./out';
  if (resolve(sites) === target) return `would replace the --sites directory ${sites}; ${own}`;
  if (within(resolve(sites))) return `would replace ${out}, which holds the --sites directory ${sites}; ${own}`;
  if (within(process.cwd())) return `would replace ${out}, which holds the working directory ${process.cwd()}; ${own}`;
  for (let p = target; ; p = dirname(p)) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && p !== dirname(p)) continue;
      return `cannot use ${p}: ${fsReason(e)}; pass another --out`;
    }
    if (isDir) return p === target ? foreignEntry(p, out) : undefined;
    return p === target ? 'is a file, not a directory; remove it or pass another --out' : `${p} is a file, not a directory; pass another --out`;
  }
}

/**
 * An existing --out is replaced whole, so it may hold only what render writes there: one directory
 * per site. Anything else (`--out /etc`, a project directory) is refused rather than deleted.
 */
function foreignEntry(dir: string, out: string): string | undefined {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    return `cannot read ${out}: ${fsReason(e)}; pass another --out`;
  }
  const foreign = entries.filter((e) => !e.isDirectory() || !(IDENT.test(e.name) || e.name === MANIFEST_DIR)).map((e) => e.name).sort();
  if (foreign.length === 0) return undefined;
  const shown = foreign.length > 3 ? `${foreign.slice(0, 3).join(', ')} and ${foreign.length - 3} more` : foreign.join(', ');
  return `holds ${shown}, which render did not write, and render replaces the whole directory; pass a new or empty directory, or an earlier --out`;
}
