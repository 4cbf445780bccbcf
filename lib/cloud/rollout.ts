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
 * What a host's version depends on, from the shape. `replacing` holds every input that feeds a
 * property CloudFormation (or Pulumi) replaces the instance for: its subnet (and so its zone) and
 * its root volume; the adapter adds the pinned AMI. `restarting` holds what an in-place update
 * (a stop and start) changes: the bundle, packages, units and the instance type.
 */
export interface VersionParts {
  replacing: { subnet: string; azIndex: number; rootVolumeGiB: number };
  restarting: { bundle: string; instanceType: string; packages: string[]; units: string[] };
}

export interface HostVersion {
  /**
   * Changes exactly when the instance is replaced. The adapters put it in the instance's name, so
   * a replacement is a new resource: CloudFormation creates it, waits for its signal, and deletes
   * the old one only afterwards; references to it (the accelerator's endpoints) change with it.
   */
  replacementKey: string;
  /** Changes whenever the instance restarts or is replaced: a new wait condition, a fresh signal. */
  gateKey: string;
}

export function hostVersion(parts: VersionParts, ami: string): HostVersion {
  const replacementKey = shortHash({ ...parts.replacing, ami });
  return { replacementKey, gateKey: shortHash({ ...parts.restarting, replacementKey }) };
}

function shortHash(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts, Object.keys(parts).sort())).digest('hex').slice(0, 12);
}
