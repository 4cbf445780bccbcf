// Bundles on disk for the cloud adapters: CDK assets and Pulumi file assets need a path, so each
// archive is written once, named by its sha256, under the system temp directory; the adapter then
// uploads it (CDK: the cdk CLI publishes it to the bootstrap asset bucket).
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostBundle } from './bundle.ts';

const ROOT = join(tmpdir(), 'anycdn-bundles');

/** The bundle's archive as a file: <tmp>/anycdn-bundles/<sha256>.tar.gz. */
export function bundleFile(bundle: HostBundle): string {
  const path = join(ROOT, `${bundle.sha256}.tar.gz`);
  writeOnce(path, bundle.archive);
  return path;
}

function writeOnce(path: string, data: Buffer): void {
  if (existsSync(path)) return;
  mkdirSync(ROOT, { recursive: true, mode: 0o755 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o644 });
  renameSync(tmp, path);
}
