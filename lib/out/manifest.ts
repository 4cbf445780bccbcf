// The record of what `render` wrote: out/.anycdn/manifest.json. It is what `anycdn plan` compares
// against by default (the last state rendered for, and so applied to, the hosts): every file's
// path, sha256 and mode, the model texts it was rendered from (so plan can rebuild the cloud
// templates of that state offline) and the git commit of the model when there is one.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { InputError } from '../model/errors.ts';
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

/** Parses a manifest's text; a message (what is wrong, and the fix) when it is not one. */
export function parseManifest(text: string): Manifest | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'is not JSON; delete it and run `anycdn render` to write it again';
  }
  const r = manifestSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    return `${i.path.join('.') || '(top level)'}: ${i.message}; delete it and run \`anycdn render\` to write it again`;
  }
  return r.data;
}

/** The model files of a sites directory, by name: what the manifest records. */
export function readModelFiles(sitesDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(sitesDir).filter((n) => /\.ya?ml$/.test(n)).sort(byCodePoint)) out[n] = readFileSync(join(sitesDir, n), 'utf8');
  return out;
}

/** A render context whose zone baselines are the recorded zone files (serial and sha256). */
export function zoneContext(entries: { path: string; sha256: string; soaSerial?: number | undefined }[]): RenderContext {
  const byPath = new Map(entries.filter((e) => e.soaSerial !== undefined).map((e) => [e.path, { serial: e.soaSerial!, sha256: e.sha256 }]));
  return { zoneBaseline: (site, host, path) => byPath.get(`${site}/${host}${path}`) };
}

/**
 * The render context of the last render recorded in `outDir` ({} when there is none), so the CDK
 * app and the Pulumi program ship the zone serials `render` wrote (lib/render/serial.ts).
 */
export function recordedContext(outDir: string): RenderContext {
  const m = readManifest(outDir);
  if (m === undefined) return {};
  if (typeof m === 'string') throw new InputError([{ file: join(outDir, MANIFEST_PATH), line: 1, col: 1, message: m }]);
  return zoneContext(m.files);
}

/** The manifest under `outDir`: undefined when there is none, a message when it is unreadable. */
export function readManifest(outDir: string): Manifest | string | undefined {
  let text: string;
  try {
    text = readFileSync(join(outDir, MANIFEST_PATH), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
  return parseManifest(text);
}
