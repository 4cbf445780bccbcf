// The stacks of a topology, by name, with the region each lives in: `origin` (an S3 origin only),
// `origin-replica` (a second S3 origin, the replica),
// one per site, and `global` (when any site is on aws). CDK names its stacks anycdn-<name>; Pulumi
// selects them by stack name (`pulumi up -s <name>`).
import type { CloudShape } from './shape.ts';

/** AWS Global Accelerator's control plane lives here. */
export const GLOBAL_REGION = 'us-west-2';
/** Route 53 health-check metrics exist only here, so metal sites' stacks live here too. */
export const METAL_REGION = 'us-east-1';

export const ORIGIN = 'origin';
/** The replica of the origin bucket, in its own region (the model's second S3 origin). */
export const ORIGIN_REPLICA = 'origin-replica';
export const GLOBAL = 'global';

export type StackKind = 'origin' | 'origin-replica' | 'global' | 'aws-site' | 'metal-site';

export interface StackRef {
  /** origin, origin-replica, global or the site id. */
  name: string;
  kind: StackKind;
  region: string;
}

/** Every stack of the shape, sorted by name. */
export function stackRefs(shape: CloudShape): StackRef[] {
  const out: StackRef[] = [];
  if (shape.origin) out.push({ name: ORIGIN, kind: 'origin', region: shape.origin.region });
  if (shape.origin?.replica) out.push({ name: ORIGIN_REPLICA, kind: 'origin-replica', region: shape.origin.replica.region });
  for (const s of shape.awsSites) out.push({ name: s.site.id, kind: 'aws-site', region: s.region });
  for (const s of shape.metalSites) out.push({ name: s.site.id, kind: 'metal-site', region: METAL_REGION });
  if (shape.accelerator) out.push({ name: GLOBAL, kind: 'global', region: GLOBAL_REGION });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
