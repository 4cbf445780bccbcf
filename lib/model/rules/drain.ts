// Draining (state: drained, drain.*): a drained site needs a fallback to answer with, the fallback
// must be another site that serves, and no drain may take a site's whole tier out at once (both lb
// hosts of the pair, every cache, every dns host).
import { show } from '../errors.ts';
import { fallbackSite, hasRole, isDrained } from '../facts.ts';
import type { Rule } from './types.ts';

export const drain: Rule = (t, report) => {
  const last = t.sites.at(-1);
  if (last && t.sites.every(isDrained)) {
    report(last.id, ['state'], `state: every site is drained, and the CDN would vanish from the internet; keep at least one site active`);
  }
  for (const site of t.sites) {
    const name = site.drain.fallbackSite;
    if (name !== undefined) {
      const target = t.sites.find((s) => s.id === name);
      if (name === site.id) report(site.id, ['drain', 'fallbackSite'], `drain.fallbackSite: ${show(name)} is this site; name the nearest other site (${others(t, site.id)})`);
      else if (!target) report(site.id, ['drain', 'fallbackSite'], `drain.fallbackSite: ${show(name)} is not a site; use one of ${others(t, site.id)}`);
      else if (isDrained(site) && isDrained(target)) {
        report(site.id, ['drain', 'fallbackSite'], `drain.fallbackSite: ${name} is drained too; a drained site must fall back to one that serves, name another or undrain ${name}`);
      }
    } else if (isDrained(site) && !fallbackSite(t, site)) {
      report(site.id, ['state'], `state: site ${site.id} is drained but has no fallback; set drain.fallbackSite to the nearest other site (${others(t, site.id)})`);
    }
    for (const role of ['lb', 'cache', 'dns'] as const) {
      const hosts = site.hosts.filter((h) => hasRole(h, role));
      const last = site.hosts.findLastIndex((h) => hasRole(h, role) && isDrained(h));
      if (hosts.length > 0 && hosts.every(isDrained)) {
        const fix = role === 'lb' ? 'never drain both lb hosts of a pair' : role === 'cache' ? 'keep at least one cache serving' : 'keep at least one dns host announcing, or drain the site (state: drained)';
        report(site.id, ['hosts', last, 'state'], `hosts[${last}].state: every ${role} host of ${site.id} is drained; ${fix}`);
      }
    }
  }
};

function others(t: { sites: { id: string }[] }, id: string): string {
  return t.sites.filter((s) => s.id !== id).map((s) => s.id).join(', ') || 'none';
}
