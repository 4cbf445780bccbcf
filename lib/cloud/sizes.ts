// Instance size and disk per host. The model has no instance-type field yet, so the role picks
// one; the root volume of a cache host holds its cache, so the disk follows the model's cache size.
import { hasRole } from '../model/facts.ts';
import type { Cdn, Host } from '../model/schema.ts';

/** Base system, packages and logs. */
export const ROOT_BASE_GIB = 16;

export function instanceType(host: Host): string {
  if (hasRole(host, 'cache')) return 'r6i.large'; // memory for the page cache and keys zone
  if (hasRole(host, 'lb')) return 'c6i.large'; // haproxy: CPU and network
  return 't3.small'; // dns only: Knot and the health checker
}

/** Root volume size: the base plus the cache store and 10% headroom for cache hosts. */
export function rootVolumeGiB(cdn: Cdn, host: Host): number {
  if (!hasRole(host, 'cache')) return ROOT_BASE_GIB;
  const cacheGiB = host.cacheEngine === 'squid' ? cdn.cache.squid.cacheDirMiB / 1024 : cdn.cache.nginx.maxSizeGiB;
  return ROOT_BASE_GIB + Math.ceil(cacheGiB * 1.1);
}
