// The shape of a site: an lb pair, at least one dns host, two or more caches with an engine each.
import { show } from '../errors.ts';
import { CACHE_PORT, hasRole } from '../facts.ts';
import type { Rule } from './types.ts';

export const roles: Rule = (t, report) => {
  for (const site of t.sites) {
    const lbs = site.hosts.filter((h) => hasRole(h, 'lb'));
    const caches = site.hosts.filter((h) => hasRole(h, 'cache'));
    const dns = site.hosts.filter((h) => hasRole(h, 'dns'));
    if (lbs.length !== 2) report(site.id, ['hosts'], `hosts: a site needs exactly 2 lb hosts (the keepalived pair), got ${lbs.length}`);
    if (caches.length < 2) report(site.id, ['hosts'], `hosts: a site needs at least 2 cache hosts, got ${caches.length}`);
    if (dns.length < 1) report(site.id, ['hosts'], `hosts: a site needs at least 1 dns host to announce the anycast address, got 0`);
    site.hosts.forEach((h, i) => {
      const dup = h.roles.find((r, j) => h.roles.indexOf(r) !== j);
      if (dup) report(site.id, ['hosts', i, 'roles'], `hosts[${i}].roles: ${dup} is listed twice; remove one`);
      if (hasRole(h, 'cache') && h.cacheEngine === undefined) {
        report(site.id, ['hosts', i], `hosts[${i}].cacheEngine: cache host ${h.name} needs cacheEngine: nginx or squid`);
      }
      if (!hasRole(h, 'cache') && h.cacheEngine !== undefined) {
        report(site.id, ['hosts', i, 'cacheEngine'], `hosts[${i}].cacheEngine: ${show(h.cacheEngine)} on ${h.name}, which has no cache role; remove it or add the cache role`);
      }
      if (hasRole(h, 'cache') && hasRole(h, 'lb')) {
        report(site.id, ['hosts', i, 'roles'], `hosts[${i}].roles: ${h.name} cannot be both lb and cache (both serve port ${CACHE_PORT}); split them`);
      }
      if (h.vrrpPriority !== undefined && !hasRole(h, 'lb')) {
        report(site.id, ['hosts', i, 'vrrpPriority'], `hosts[${i}].vrrpPriority: ${h.name} is not an lb host; remove vrrpPriority`);
      }
    });
    const [a, b] = lbs;
    if (a && b && a.vrrpPriority !== undefined && a.vrrpPriority === b.vrrpPriority) {
      report(site.id, ['hosts', site.hosts.indexOf(b), 'vrrpPriority'], `hosts[${site.hosts.indexOf(b)}].vrrpPriority: ${b.vrrpPriority} equals ${a.name}'s; give the lb pair different priorities`);
    }
  }
};
