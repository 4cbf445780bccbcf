// dns.parentZone, when set, must be a proper ancestor of dns.zone: Route 53 can delegate a zone
// only from the zone above it. And the delegation keeps RFC 2182's diversity: the glue is the
// child's own records (each name server at its anycast prefix), so the name servers must be
// reached at more than one place. Announced over BGP by one site only, or by none (the prefixes
// then reach the internet only through the one accelerator, with BYOIP), every first lookup
// lands in one place and fails with it.
import { announcedGroups, announcesBgp, nameserverGroup } from '../facts.ts';
import { inZone } from './dns.ts';
import type { Rule } from './types.ts';

export const parentZone: Rule = (t, report) => {
  const d = t.cdn.dns;
  if (!d.parentZone) return;
  const parent = d.parentZone.name;
  const at = ['dns', 'parentZone'];
  if (parent === d.zone || !inZone(d.zone, parent)) {
    const above = d.zone.split('.').slice(1).join('.');
    report(null, [...at, 'name'], `dns.parentZone.name: ${parent} is not above dns.zone ${d.zone}; use the zone that delegates it, such as ${above}`);
  }
  const inZoneServers = d.nameservers.filter((ns) => ns !== d.zone && inZone(ns, d.zone));
  if (inZoneServers.length === 0) return;
  // Where the glue addresses are answered: the BGP sites that announce each name server's prefix.
  const places = new Set<string>();
  for (const ns of inZoneServers) {
    const group = nameserverGroup(t, ns);
    if (!group) continue; // rules/anycast.ts reports it
    for (const site of t.sites.filter(announcesBgp)) if (announcedGroups(t, site).some((g) => g.name === group.name)) places.add(site.id);
  }
  const names = inZoneServers.join(', ');
  if (places.size === 0) {
    report(
      null,
      at,
      `dns.parentZone: every name server (${names}) is reached only behind the one Global Accelerator (no BGP site announces their prefixes), so one service in one provider answers every first lookup (RFC 2182); add a metal site that announces them, or delegate to name servers elsewhere as well`,
    );
  } else if (places.size === 1) {
    report(
      null,
      at,
      `dns.parentZone: every name server (${names}) is reached only at site ${[...places][0]}, so every first lookup lands there and fails with it (RFC 2182); announce their prefixes from a second BGP site (bgp.announce), or add a metal site with peers`,
    );
  }
};
