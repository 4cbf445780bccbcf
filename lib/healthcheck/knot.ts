// A site drain steers the local Knot: the image host answers with the fallback site's VIPs (a
// zone transaction through knotc) while the drain runs, and the rendered zone again after it.
// knotc runs only on those two transitions.
import { execFile } from 'node:child_process';
import net from 'node:net';
import type { KnotConfig } from './config.ts';
import { log } from './log.ts';

/** Runs knotc commands one after another (a zone transaction); resolves true when all succeed. */
export async function knotc(k: KnotConfig, commands: string[][]): Promise<boolean> {
  for (const args of commands) {
    const ok = await new Promise<boolean>((resolve) => {
      execFile(k.knotc, ['-c', k.conf, ...args], { timeout: 5000 }, (err, _out, stderr) => {
        if (err) log(`knotc ${args.join(' ')}: ${(stderr || err.message).trim()}`);
        resolve(!err);
      });
    });
    if (!ok) {
      if (args[0] !== 'zone-begin' && args[0] !== 'zone-reload') await new Promise((r) => execFile(k.knotc, ['-c', k.conf, 'zone-abort', k.zone], { timeout: 5000 }, () => r(undefined)));
      return false;
    }
  }
  return true;
}

/** The zone change that makes Knot answer the image host with the fallback site's VIPs. */
export function knotFallbackCommands(k: KnotConfig, fallbacks: string[]): string[][] {
  const owner = `${k.name}.`;
  const sets = fallbacks.flatMap((fallback) => {
    const type = net.isIPv6(fallback) ? 'AAAA' : 'A';
    return [
      ['zone-unset', k.zone, owner, type],
      ['zone-set', k.zone, owner, String(k.ttlSec), type, fallback],
    ];
  });
  return [['zone-begin', k.zone], ...sets, ['zone-commit', k.zone]];
}

/** The zone change that ends a site drain: Knot reloads the rendered zone. */
export function knotRenderedCommands(k: KnotConfig): string[][] {
  return [['zone-reload', k.zone]];
}
