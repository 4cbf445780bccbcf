// Every prefix parses, has no host bits, and no two site subnets overlap (across all sites).
// The anycast service addresses are a /32 and a /128 outside every site subnet.
import { isIP } from 'node:net';
import { show } from '../errors.ts';
import { ANYCAST_RULE } from '../text.ts';
import { overlaps, parsePrefix, type Prefix } from '../net.ts';
import type { Rule } from './types.ts';

export const prefixes: Rule = (t, report) => {
  const seen: { siteId: string; name: string; prefix: Prefix }[] = [];
  for (const site of t.sites) {
    for (const [name, text] of Object.entries(site.subnets)) {
      const p = parsePrefix(text);
      if (typeof p === 'string') {
        report(site.id, ['subnets', name], `subnets.${name}: ${show(text)} ${p}`);
        continue;
      }
      for (const other of seen) {
        if (overlaps(p, other.prefix)) {
          report(site.id, ['subnets', name], `subnets.${name}: ${text} overlaps ${other.prefix.text} (subnets.${other.name} of site ${other.siteId}); give each segment its own prefix`);
        }
      }
      seen.push({ siteId: site.id, name, prefix: p });
    }
  }
  const anycast: [string, string | undefined, 4 | 6][] = [
    ['ipv4', t.cdn.anycast.ipv4, 4],
    ['ipv6', t.cdn.anycast.ipv6, 6],
  ];
  for (const [key, text, family] of anycast) {
    if (text === undefined) continue;
    // Only the length and family are checked here, never host bits first: "use the network
    // 192.0.2.52/31" would point at a value this very rule refuses.
    const [address, length] = text.split('/');
    const p = isIP(address ?? '') === family && length === String(family === 4 ? 32 : 128) ? parsePrefix(text) : undefined;
    if (p === undefined || typeof p === 'string') {
      report(null, ['anycast', key], `anycast.${key}: ${ANYCAST_RULE[family]}, got ${show(text)}`);
    } else {
      for (const s of seen) {
        if (overlaps(p, s.prefix)) report(null, ['anycast', key], `anycast.${key}: ${text} lies inside subnets.${s.name} of site ${s.siteId}; the anycast address must not be on any site segment`);
      }
    }
  }
};
