// Bundles on disk for the cloud adapters: CDK assets and Pulumi file assets need a path, so each
// archive is written once, named by its sha256, under the system temp directory; the adapter then
// uploads it.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostBundle } from './bundle.ts';
import { bundleKey, checksumKey, checksumText, sha256 } from './bundle.ts';

const ROOT = join(tmpdir(), 'anycdn-bundles');

/** The bundle's archive as a file: <tmp>/anycdn-bundles/<sha256>.tar.gz. */
export function bundleFile(bundle: HostBundle): string {
  const path = join(ROOT, `${bundle.sha256}.tar.gz`);
  writeOnce(path, bundle.archive);
  return path;
}

/**
 * A directory holding <host>/bundle.tar.gz and <host>/bundle.tar.gz.sha256 (sha256sum format) for
 * each bundle; its name is the hash of everything in it. Returns the directory and that hash.
 */
export function bundleDirectory(bundles: HostBundle[]): { path: string; hash: string } {
  const manifest = bundles.map((b) => `${b.sha256}  ${bundleKey(b.host)}`).join('\n');
  const hash = sha256(manifest);
  const dir = join(ROOT, `dir-${hash}`);
  if (!existsSync(dir)) {
    const tmp = `${dir}.${process.pid}.tmp`;
    for (const b of bundles) {
      mkdirSync(join(tmp, b.host), { recursive: true, mode: 0o755 });
      writeFileSync(join(tmp, bundleKey(b.host)), b.archive, { mode: 0o644 });
      writeFileSync(join(tmp, checksumKey(b.host)), checksumText(b), { mode: 0o644 });
    }
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(dir)) throw e;
      rmSync(tmp, { recursive: true, force: true }); // another synth wrote the same content first
    }
  }
  return { path: dir, hash };
}

function writeOnce(path: string, data: Buffer): void {
  if (existsSync(path)) return;
  mkdirSync(ROOT, { recursive: true, mode: 0o755 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o644 });
  renameSync(tmp, path);
}
