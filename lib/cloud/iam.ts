// What each host may do in AWS, by role, named so each adapter can map it to its own policy
// documents. Reading the host's own bundle is implied for every host.
import type { Cdn, Host, Site } from '../model/schema.ts';

export type Permission =
  /** AmazonSSMManagedInstanceCore: Session Manager instead of SSH. */
  | 'ssm-core'
  /** s3:GetObject on the origin bucket's objects and s3:ListBucket (so a missing key is a 404, not a 403). */
  | 'origin-read'
  /**
   * The keepalived notify hook on the new master: ec2:AssignPrivateIpAddresses (the VIP, with
   * --allow-reassignment) and ec2:AssociateAddress (the site's Elastic IP to the VIP, with
   * --allow-reassociation), on this allocation and the site's network interfaces only.
   */
  | 'move-vip';

export function permissions(cdn: Cdn, site: Site, host: Host): Permission[] {
  const out: Permission[] = ['ssm-core'];
  if (host.roles.includes('cache') && 's3' in cdn.origin) out.push('origin-read');
  if (host.roles.includes('lb') && site.vip.elasticIp) out.push('move-vip');
  return out;
}

/**
 * The IAM path of cache instance roles. The origin bucket policy admits roles under this path, so
 * the origin stack needs no reference to any site stack (which may live in another region).
 */
export const CACHE_ROLE_PATH = '/anycdn/cache/';
