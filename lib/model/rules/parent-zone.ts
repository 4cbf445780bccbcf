// dns.parentZone, when set, must be a proper ancestor of dns.zone: Route 53 can delegate a zone
// only from the zone above it.
import { inZone } from './dns.ts';
import type { Rule } from './types.ts';

export const parentZone: Rule = (t, report) => {
  const d = t.cdn.dns;
  if (!d.parentZone) return;
  const parent = d.parentZone.name;
  if (parent === d.zone || !inZone(d.zone, parent)) {
    const above = d.zone.split('.').slice(1).join('.');
    report(null, ['dns', 'parentZone', 'name'], `dns.parentZone.name: ${parent} is not above dns.zone ${d.zone}; use the zone that delegates it, such as ${above}`);
  }
};
