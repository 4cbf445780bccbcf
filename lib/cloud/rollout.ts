// How an aws site rolls out a change: one host at a time, each gated on its own health. A host
// signals CloudFormation (a wait condition per host and per version of the host) only once its
// units are active and its local probes answer; the next host starts only after that signal, so
// the two lb hosts of a pair are never down together, and a host that fails (or stays silent
// until the timeout) fails the deployment, which rolls it back.
import { createHash } from 'node:crypto';
import { endpointUrl, type HostPlan, type Purpose } from '../render/index.ts';

export const ROLLOUT = {
  /** How long CloudFormation waits for a host's signal: apt, the bundle and the probes. */
  timeoutSec: 1800,
  /** After the units (re)start, the host checks every intervalSec, at most attempts times. */
  attempts: 90,
  intervalSec: 10,
} as const;

/**
 * The endpoints whose health path gates a host: the health checker's verdict (the site's DNS and
 * image path, as the accelerator polls it), and the path haproxy checks a cache on, answered by
 * the engine itself. Not the VIP: only one lb host of the pair holds it.
 */
const READINESS: Purpose[] = ['healthcheck-status', 'cache-http'];

/** URLs on the host's own address that must answer 2xx before the host reports ready. */
export function readinessProbes(plan: HostPlan): string[] {
  return READINESS.flatMap((purpose) => plan.endpoints.filter((e) => e.purpose === purpose && e.family === 4)).map((e) => endpointUrl(e));
}

/**
 * What a host's version depends on, from the shape. `replacing` holds every input that feeds a
 * property CloudFormation (or Pulumi) replaces the instance for: its subnet (and so its zone), the
 * egress subnet of its second interface, and its root volume; the adapter adds the pinned AMI. `restarting` holds what an in-place update
 * (a stop and start) changes: the bundle, packages, units and the instance type.
 */
export interface VersionParts {
  replacing: { subnet: string; azIndex: number; egressSubnet: string; rootVolumeGiB: number };
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

/**
 * The Pulumi twin of a host's wait condition (Pulumi has none of its own): a tiny CloudFormation
 * stack per host version, created after the instance, holding a wait condition handle and the
 * wait condition. Creating the stack waits for the condition, so the Pulumi resource that creates
 * it finishes only once the host signalled SUCCESS; FAILURE or the timeout fails it (the stack is
 * deleted) and stops `pulumi up` there. The host finds the handle's URL as the physical id of the
 * stack's resource `Handle` (lib/cloud/userdata.ts). `Instance` only ties the stack to the instance.
 */
export function readinessTemplate(host: string): Record<string, unknown> {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `anycdn: the health gate of ${host}, satisfied when the host reports its units active and its probes green`,
    Parameters: { Instance: { Type: 'String', Description: 'The instance this version of the host runs on' } },
    Resources: {
      Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' },
      Ready: { Type: 'AWS::CloudFormation::WaitCondition', Properties: { Handle: { Ref: 'Handle' }, Timeout: String(ROLLOUT.timeoutSec), Count: 1 } },
    },
  };
}

/** The name of that stack for one version of a host (CloudFormation: letters, digits, hyphens). */
export function readinessStackName(site: string, host: string, gateKey: string): string {
  return `anycdn-${site}-${host}-ready-${gateKey}`;
}
