// How an aws site rolls out a change: one host at a time, each gated on its own health. A host
// signals CloudFormation (a wait condition per host and per version of the host) only once its
// units are active and its local probes answer; the next host starts only after that signal, so
// the two lb hosts of a pair are never down together, and a host that fails (or stays silent
// until the timeout) fails the deployment, which rolls it back.
import { createHash } from 'node:crypto';
import type { Cdn, Host } from '../model/schema.ts';
import { CACHE_HEALTH, CACHE_PORT } from '../render/cache-health.ts';
import { HEALTHCHECK_STATUS_PATH } from '../render/healthcheck.ts';

export const ROLLOUT = {
  /** How long CloudFormation waits for a host's signal: apt, the bundle and the probes. */
  timeoutSec: 1800,
  /** After the units (re)start, the host checks every intervalSec, at most attempts times. */
  attempts: 90,
  intervalSec: 10,
} as const;

/** URLs on the host's own address that must answer 2xx before the host reports ready. */
export function readinessProbes(cdn: Cdn, host: Host): string[] {
  const out: string[] = [];
  // The health checker's verdict: the site's DNS and image path, as the accelerator polls it.
  if (host.roles.includes('dns')) out.push(`http://${host.address}:${cdn.healthcheck.statusPort}${HEALTHCHECK_STATUS_PATH}`);
  // The path haproxy checks the cache on, answered by the engine itself.
  if (host.roles.includes('cache')) out.push(`http://${host.address}:${CACHE_PORT}${CACHE_HEALTH[host.cacheEngine ?? 'nginx'].path}`);
  return out;
}

/**
 * A short key over everything whose change restarts the instance (its user data: the bundle, the
 * packages and units; its type and disk; the image). A new key is a new wait condition, so every
 * such update waits for a fresh signal; an unchanged host keeps its satisfied one.
 */
export function gateKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts, Object.keys(parts).sort())).digest('hex').slice(0, 12);
}
