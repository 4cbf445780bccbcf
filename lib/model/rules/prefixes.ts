// Every prefix parses, has no host bits, and no two site subnets overlap (across all sites).
import { show } from '../errors.ts';
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
};
