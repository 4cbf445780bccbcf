// The test run's own cache home. The CDK and Pulumi tests synthesize stacks, and the bundle cache
// (lib/cloud/staging.ts) lives under $XDG_CACHE_HOME, else ~/.cache: without this the suite would
// fill the home directory of whoever runs it, and could reuse what an earlier run left there. The
// directory is made before the workers start (they inherit the environment) and removed after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'anycdn-test-cache-'));
  process.env.XDG_CACHE_HOME = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
