// anycdn render: load the model, render every host, replace --out atomically.
import { statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { byCodePoint } from '../model/order.ts';
import { fsReason, InputError } from '../model/errors.ts';
import { loadTexts, readSiteTexts } from '../model/load.ts';
import { PROMETHEUS_HOST, renderTopology, ROUTING_DIR, routingFiles } from '../render/index.ts';
import { ReplaceRefused, writeTreeAtomically } from '../out/write.ts';
import { replaceable } from '../out/guard.ts';
import { buildManifest, MANIFEST_PATH, manifestText, zoneContext, type Manifest } from '../out/manifest.ts';
import { modelCommit } from '../out/commit.ts';
import type { RenderedFile } from '../render/types.ts';
import { byoipFromCdkJson } from './byoip.ts';
import { EXIT, type Io } from './report.ts';
import type { RenderOutput } from './schemas.ts';

export async function renderCommand(opts: { sites: string; out: string; json?: boolean }, io: Io): Promise<number> {
  // Every error at once: a bad --out is reported together with the model's errors.
  const out = outProblem(opts.out, opts.sites);
  const outErrors = 'what' in out ? [{ file: out.file ?? opts.out, line: 1, col: 1, message: `${out.file ? '' : '--out: '}${out.what}; ${out.fix}` }] : [];
  let topology;
  let texts;
  try {
    // Read once: the texts rendered are the texts the manifest records.
    texts = readSiteTexts(opts.sites, '--sites');
    topology = loadTexts(texts);
  } catch (e) {
    if (e instanceof InputError) throw new InputError([...e.diagnostics, ...outErrors]);
    throw e;
  }
  if (outErrors.length > 0) throw new InputError(outErrors);
  // The previous render's record: zone serials count on from it (lib/render/serial.ts).
  const previous = 'manifest' in out ? out.manifest : undefined;
  const files = renderTopology(topology, previous ? zoneContext(previous.files) : {});
  const manifest = buildManifest(files, { commit: await modelCommit(opts.sites), files: Object.fromEntries(texts.map((t) => [t.name, t.text])) });
  const other = [...routingFiles(topology, { byoip: byoipFromCdkJson(opts.sites) }), { path: MANIFEST_PATH, content: manifestText(manifest) }];
  try {
    await writeTreeAtomically(opts.out, files, other, (dir) => {
      const r = replaceable(dir);
      return r.ok ? undefined : r.file ? `${r.what} (in ${r.file})` : r.what;
    });
  } catch (e) {
    if (e instanceof ReplaceRefused) throw new InputError([{ file: opts.out, line: 1, col: 1, message: `--out: ${e.message}` }]);
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

type OutProblem = { what: string; fix: string; file?: string };

/**
 * Whether --out can be replaced, before anything is written: render swaps the whole directory, so
 * it must be new, empty or a tree render wrote (lib/out/guard.ts), and must not hold the model or
 * the working directory. The previous manifest when there is one.
 */
function outProblem(out: string, sites: string): OutProblem | { manifest?: Manifest } {
  const target = resolve(out);
  const within = (dir: string) => dir === target || target === sep || dir.startsWith(`${target}${sep}`);
  const own = 'pass a directory of its own, such as ./out';
  if (resolve(sites) === target) return { what: `would replace the --sites directory ${sites}`, fix: own };
  if (within(resolve(sites))) return { what: `would replace ${out}, which holds the --sites directory ${sites}`, fix: own };
  if (within(process.cwd())) return { what: `would replace ${out}, which holds the working directory ${process.cwd()}`, fix: own };
  // The parents: a file among them is named; the first directory ends the walk.
  for (let p = dirname(target); ; p = dirname(p)) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && p !== dirname(p)) continue;
      return { what: `cannot use ${p}: ${fsReason(e)}`, fix: 'pass another --out' };
    }
    if (!isDir) return { what: `${p} is a file, not a directory`, fix: 'pass another --out' };
    break;
  }
  const r = replaceable(target, out);
  return r.ok ? { ...(r.manifest ? { manifest: r.manifest } : {}) } : r;
}
