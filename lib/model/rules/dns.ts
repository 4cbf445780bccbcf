// The image host and in-zone name servers lie inside the zone; the shield names a real site.
import type { Rule } from './types.ts';

export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

export const dns: Rule = (t, report) => {
  const { imageHost, dns: d } = t.cdn;
  if (!inZone(imageHost, d.zone) || imageHost === d.zone) {
    report(null, ['imageHost'], `imageHost: ${imageHost} is not below dns.zone ${d.zone}; use a name such as img.${d.zone}`);
  }
  if (inZone(d.hostmaster, d.zone) && d.hostmaster === d.zone) {
    report(null, ['dns', 'hostmaster'], `dns.hostmaster: ${d.hostmaster} is the zone apex; use a mailbox name such as hostmaster.${d.zone}`);
  }
  const seen = new Set<string>();
  d.nameservers.forEach((ns, i) => {
    if (seen.has(ns)) report(null, ['dns', 'nameservers', i], `dns.nameservers[${i}]: ${ns} is listed twice; remove one`);
    seen.add(ns);
    if (ns === imageHost) report(null, ['dns', 'nameservers', i], `dns.nameservers[${i}]: ${ns} is the image host; name servers need their own names`);
  });
  if (t.cdn.shield !== undefined && !t.sites.some((s) => s.id === t.cdn.shield)) {
    report(null, ['shield'], `shield: ${t.cdn.shield} is not a site; use one of ${t.sites.map((s) => s.id).sort().join(', ')}`);
  }
};
