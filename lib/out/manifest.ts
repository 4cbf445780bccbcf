// The record of what `render` wrote: out/.anycdn/manifest.json. It is what `anycdn plan` compares
// against by default (the last state rendered for, and so applied to, the hosts): every file's
// path, sha256 and mode, the model texts it was rendered from (so plan can rebuild the cloud
// templates of that state offline) and the git commit of the model when there is one.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as z from 'zod';
import { InputError, show } from '../model/errors.ts';
import { IDENT } from '../model/text.ts';
import { isProblem, readInput } from '../read-input.ts';
import { byCodePoint } from '../model/order.ts';
import type { RenderContext, RenderedFile } from '../render/types.ts';
import { outputPath } from '../render/index.ts';

/** Where the record lives inside --out; `render` writes it, nothing else does. */
export const MANIFEST_DIR = '.anycdn';
export const MANIFEST_PATH = `${MANIFEST_DIR}/manifest.json`;

const manifestSchema = z.strictObject({
  version: z.literal(1),
  model: z.strictObject({
    /** `git rev-parse HEAD` of the repository holding the sites directory, or null outside git. */
    commit: z.string().nullable(),
    /** The site model files by name (cdn.yaml, ams.yaml, ...), exactly as rendered. */
    files: z.record(z.string(), z.string()),
  }),
  files: z.array(
    z.strictObject({
      /** <site>/<host>/<absolute path on the host>, as under --out. */
      path: z.string(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      /** Octal, such as "0644". */
      mode: z.string().regex(/^0[0-7]{3}$/),
      /** Zone files: their SOA serial, from which the next render counts on. */
      soaSerial: z.number().int().min(0).max(2 ** 32 - 1).optional(),
    }),
  ),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestEntry = Manifest['files'][number];

export const sha256Hex = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
export const modeString = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

export function buildManifest(files: RenderedFile[], model: Manifest['model']): Manifest {
  return {
    version: 1,
    model,
    files: files
      .map((f) => ({ path: outputPath(f), sha256: sha256Hex(f.content), mode: modeString(f.mode), ...(f.soaSerial === undefined ? {} : { soaSerial: f.soaSerial }) }))
      .sort((a, b) => byCodePoint(a.path, b.path)),
  };
}

/** The manifest's text: sorted keys by construction, two-space JSON, one trailing newline. */
export function manifestText(m: Manifest): string {
  const files = Object.fromEntries(Object.entries(m.model.files).sort(([a], [b]) => byCodePoint(a, b)));
  return `${JSON.stringify({ ...m, model: { ...m.model, files } }, null, 2)}\n`;
}

/** The most bytes a manifest may hold: it carries the model's texts (1 MiB each at most) and a line per file. */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/**
 * Parses a manifest's text: the manifest, or what is wrong with it (no fix: the caller names it,
 * see manifestFix). Every file path must be one render writes, `<site>/<host>/<path on the host>`
 * with no empty, `.` or `..` segment, so nothing read or deleted through it can leave --out.
 */
export function parseManifest(text: string): Manifest | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  const r = manifestSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    return `${i.path.join('.') || '(top level)'}: ${i.message}`;
  }
  for (const [i, f] of r.data.files.entries()) {
    const problem = entryPathProblem(f.path);
    if (problem) return `files.${i}.path: ${problem}, got ${show(f.path)}`;
  }
  for (const name of Object.keys(r.data.model.files)) {
    if (!/^[^/\0]+\.ya?ml$/.test(name)) return `model.files: ${show(name)} is not a site file name (<name>.yaml)`;
  }
  return r.data;
}

/** Why `path` is not one render writes (<site>/<host>/<path>), or undefined. */
export function entryPathProblem(path: string): string | undefined {
  const parts = path.split('/');
  if (parts.length < 3 || !IDENT.test(parts[0]!) || !IDENT.test(parts[1]!)) return 'must be <site>/<host>/<path on the host>';
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\0'))) return 'must have no empty, . or .. segment';
  return undefined;
}

/** The fix for a manifest anycdn cannot use: the tree under it cannot be trusted to be anycdn's either. */
export const manifestFix = (outDir: string) => `render into a new --out, or remove ${outDir} (once you have checked that nothing in it is yours) and render again`;

/** A render context whose zone baselines are the recorded zone files (serial and sha256). */
export function zoneContext(entries: { path: string; sha256: string; soaSerial?: number | undefined }[]): RenderContext {
  const byPath = new Map(entries.filter((e) => e.soaSerial !== undefined).map((e) => [e.path, { serial: e.soaSerial!, sha256: e.sha256 }]));
  return { zoneBaseline: (site, host, path) => byPath.get(`${site}/${host}${path}`) };
}

/** Why a manifest cannot be used, and the fix. */
export interface ManifestProblem {
  what: string;
  fix: string;
}

export const isManifestProblem = (m: Manifest | ManifestProblem | undefined): m is ManifestProblem => m !== undefined && 'what' in m;

/**
 * The render context of the last render recorded in `outDir` ({} when there is none), so the CDK
 * app and the Pulumi program ship the zone serials `render` wrote (lib/render/serial.ts).
 */
export function recordedContext(outDir: string): RenderContext {
  const m = readManifest(outDir);
  if (m === undefined) return {};
  if (isManifestProblem(m)) throw new InputError([{ file: join(outDir, MANIFEST_PATH), line: 1, col: 1, message: `${m.what}; ${m.fix}` }]);
  return zoneContext(m.files);
}

/**
 * The manifest under `outDir`: undefined when there is none, else the manifest or what is wrong
 * with it. It is read as any input is (lib/read-input.ts): a regular file whose real path lies
 * inside `outDir`, at most MAX_MANIFEST_BYTES.
 */
export function readManifest(outDir: string): Manifest | ManifestProblem | undefined {
  const text = readInput(join(outDir, MANIFEST_PATH), { maxBytes: MAX_MANIFEST_BYTES, within: outDir });
  if (isProblem(text)) {
    if (text.kind === 'missing') return undefined;
    if (text.kind === 'unreadable') return { what: text.message, fix: 'check its permissions' };
    return { what: text.message, fix: manifestFix(outDir) };
  }
  const m = parseManifest(text);
  return typeof m === 'string' ? { what: m, fix: manifestFix(outDir) } : m;
}
