// The git commit a sites directory is at, for the manifest: null outside a repository or without
// git. One process start per render (not a hot path).
import { run } from '../run.ts';

export async function modelCommit(sitesDir: string): Promise<string | null> {
  const r = await run('git', ['-C', sitesDir, 'rev-parse', '--verify', '-q', 'HEAD'], { timeoutMs: 10_000 });
  const out = r.stdout.trim();
  return r.code === 0 && /^[0-9a-f]{40,64}$/.test(out) ? out : null;
}
