// A host's bundle: exactly the files `anycdn render` writes for that host, as one deterministic
// tar.gz that unpacks at / on the host. Both cloud adapters ship these bytes; the sha256 is what
// the host verifies before it unpacks anything.
import { createHash } from 'node:crypto';
import type { RenderedFile } from '../render/types.ts';
import { tarGz } from './tar.ts';

export interface HostBundle {
  site: string;
  host: string;
  /** The rendered files of this host, sorted by path. */
  files: RenderedFile[];
  /** The tar.gz bytes. */
  archive: Buffer;
  /** Hex sha256 of `archive`. */
  sha256: string;
}

/** One bundle per (site, host) pair present in `files`, sorted by site then host. */
export function hostBundles(files: RenderedFile[]): HostBundle[] {
  const byHost = new Map<string, RenderedFile[]>();
  for (const f of files) {
    const key = `${f.site}\0${f.host}`;
    byHost.set(key, [...(byHost.get(key) ?? []), f]);
  }
  return [...byHost.keys()].sort().map((key) => {
    const [site, host] = key.split('\0') as [string, string];
    return hostBundle(site, host, byHost.get(key)!);
  });
}

export function hostBundle(site: string, host: string, files: RenderedFile[]): HostBundle {
  const mine = files.filter((f) => f.site === site && f.host === host).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const archive = tarGz(mine.map((f) => ({ path: f.path.replace(/^\/+/, ''), content: Buffer.from(f.content, 'utf8'), mode: f.mode })));
  return { site, host, files: mine, archive, sha256: sha256(archive) };
}

/** Where a host's bundle lives in a bucket the stack owns (Pulumi's site buckets). */
export const bundleKey = (host: string) => `${host}/bundle.tar.gz`;

/**
 * The SSM parameter that points a metal host at its current bundle: a stable name the host reads
 * with the pull policy, whose value is `bundlePointer` (the bundle's S3 URL and sha256). Each
 * deploy that publishes a new bundle updates it.
 */
export const bundleParameter = (site: string, host: string) => `/anycdn/${site}/${host}/bundle`;

/** The parameter's value: `s3://<bucket>/<key> <sha256>`, which `read -r URL SHA256` splits. */
export const bundlePointer = (url: string, bundle: HostBundle) => `${url} ${bundle.sha256}`;

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
