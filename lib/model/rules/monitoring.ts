// monitoring: the Prometheus server must be inside a scrape subnet (else haproxy and the checker
// refuse it), every scrape subnet is a valid prefix, the checker's status port takes no exporter
// port, and no site takes the name of the directory render writes the Prometheus files to.
import { EXPORTER_PORTS } from '../facts.ts';
import { contains, parsePrefix, type Prefix } from '../net.ts';
import type { Rule } from './types.ts';

/** render writes the Prometheus server's files to out/<this>/prometheus/. */
export const MONITORING_DIR = 'monitoring';

export const monitoring: Rule = (t, report) => {
  for (const site of t.sites) {
    if (site.id === MONITORING_DIR) report(site.id, ['id'], `id: ${site.id} is where render writes the Prometheus files (out/${MONITORING_DIR}/); pick another site id`);
  }
  const m = t.cdn.monitoring;
  if (!m) return;
  const prefixes: Prefix[] = [];
  m.scrapeFrom.forEach((text, i) => {
    const p = parsePrefix(text);
    if (typeof p === 'string') report(null, ['monitoring', 'scrapeFrom', i], `monitoring.scrapeFrom[${i}]: ${text} ${p}`);
    else prefixes.push(p);
  });
  if (prefixes.length === m.scrapeFrom.length && !prefixes.some((p) => contains(p, m.prometheus))) {
    report(null, ['monitoring', 'prometheus'], `monitoring.prometheus: ${m.prometheus} is in no monitoring.scrapeFrom prefix, so every exporter would refuse it; add its prefix to scrapeFrom`);
  }
  const port = t.cdn.healthcheck.statusPort;
  const clash = Object.entries(EXPORTER_PORTS).find(([, p]) => p === port);
  if (clash) report(null, ['healthcheck', 'statusPort'], `healthcheck.statusPort: ${port} is the ${clash[0]} exporter's port; pick another port`);
};
