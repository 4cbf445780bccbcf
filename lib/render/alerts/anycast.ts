// The health checkers and what they announce: each dns host's own state, and the fleet's view of
// each anycast prefix (which sites announce it). Read from the checker's /metrics
// (anycdn_anycast_state, anycdn_anycast_prefix_state, anycdn_anycast_transitions_total) and from
// `up` of its own scrape job.
//
// Drains are deliberate. The checker says draining or drained; the records below keep the last
// thing it said for a day, so a host or site that was drained and then switched off pages no one
// (scrape.ts reads them too). A drained site does not count as missing from a prefix either.
import { anycastGroups, announcedGroups, dnsHosts } from '../../model/facts.ts';
import type { Topology } from '../../model/schema.ts';
import { anyOf } from '../syntax/promql.ts';
import { alert, lines, record, type RuleGroup } from './rule.ts';

export const HEALTHCHECK_JOB = 'anycdn-healthcheck';

/** Records other groups read: 1 where the last state a host's (or every host of a site's) checker reported was a drain. */
export const DRAINED_HOST = 'anycdn:drained:by_host';
export const DRAINED_SITE = 'anycdn:drained:by_site';
const ANNOUNCED = 'anycdn:anycast_prefix_announced:by_site';
const SITE_DRAINED = 'anycdn:anycast_prefix_drained:by_site';

/** `expr` (by site, or by site and host) without the sites, and hosts, that were drained on purpose. */
export function unlessDrained(expr: string, by: 'site' | 'host' = 'host'): string {
  return lines(expr, ...(by === 'host' ? [`unless on (site, host) (${DRAINED_HOST} == 1)`] : []), `unless on (site) (${DRAINED_SITE} == 1)`);
}

export function anycastGroup(t: Topology): RuleGroup {
  const hosts = t.sites.reduce((n, s) => n + dnsHosts(s).length, 0);
  // The prefixes by how many sites the model lets announce them (bgp.announce); one that fewer
  // than two may announce has no second site to lose.
  const bySites = new Map<number, string[]>();
  for (const g of anycastGroups(t)) {
    const n = t.sites.filter((s) => announcedGroups(t, s).some((x) => x.name === g.name)).length;
    if (n >= 2) bySites.set(n, [...(bySites.get(n) ?? []), g.name]);
  }
  const singleSite = [...bySites].map(([n, names]) =>
    lines(`sum by (prefix) (${ANNOUNCED}{prefix=~${anyOf(names)}}) == 1`, `unless on (prefix) (count by (prefix) (${SITE_DRAINED} == 1) >= ${n - 1})`),
  );
  return {
    name: 'anycdn-anycast',
    rules: [
      record(DRAINED_HOST, 'max by (site, host) (last_over_time(anycdn_anycast_state{state=~"draining|drained"}[1d]))'),
      record(DRAINED_SITE, `min by (site) (${DRAINED_HOST})`),
      record(ANNOUNCED, 'max by (site, prefix) (anycdn_anycast_prefix_state{state=~"announced|depreferred"})'),
      record(SITE_DRAINED, 'min by (site, prefix) (max by (site, host, prefix) (last_over_time(anycdn_anycast_prefix_state{state=~"draining|drained"}[1d])))'),
      alert(t, 'AnycastWithdrawn', {
        expr: 'anycdn_anycast_state{state="withdrawn"} == 1',
        for: '1m',
        severity: 'critical',
        summary: '{{ $labels.host }} ({{ $labels.site }}) does not announce the anycast DNS prefix: its DNS failed (or its image path, with onImagePathDown: withdraw)',
      }),
      alert(t, 'AnycastDepreferred', {
        expr: 'anycdn_anycast_state{state="depreferred"} == 1',
        for: '5m',
        severity: 'warning',
        summary: '{{ $labels.host }} ({{ $labels.site }}) announces the anycast prefix depreferred: its image path fails',
      }),
      // The checker's death withdraws its prefixes (ExecStopPost) and takes its own metrics with
      // it, so AnycastWithdrawn cannot fire: `up` of its job is what is left. A host whose every
      // target is down is HostDown's (one page for the host, not one per exporter).
      alert(t, 'HealthcheckerDown', {
        expr: unlessDrained(lines(`up{job="${HEALTHCHECK_JOB}"} == 0`, 'unless on (site, host) (max by (site, host) (up) == 0)')),
        for: '1m',
        severity: 'critical',
        summary: "the health checker on {{ $labels.host }} ({{ $labels.site }}) is not running while the host is: the host's anycast prefixes are withdrawn (or, if its ExecStopPost failed, announced with no one checking them)",
      }),
      // absent() for the whole job, and fewer targets than the model has dns hosts: a scrape
      // config that is not the rendered one leaves dead checkers unseen.
      alert(t, 'HealthcheckerNotScraped', {
        expr: `(count(up{job="${HEALTHCHECK_JOB}"}) or vector(0)) < ${hosts}`,
        for: '10m',
        severity: 'warning',
        summary: `Prometheus scrapes {{ $value }} health checkers, the model has ${hosts} dns hosts: its prometheus.yml is not the one anycdn rendered`,
      }),
      // Every change counts (a drain is two or three), and a restart of the checker counts one.
      alert(t, 'AnycastFlapping', {
        expr: 'increase(anycdn_anycast_transitions_total[30m]) > 5',
        for: '2m',
        severity: 'warning',
        summary: "{{ $labels.host }} ({{ $labels.site }}) changed what it announces about {{ printf \"%.0f\" $value }} times in 30 minutes: upstreams' route-flap damping may suppress the prefix",
      }),
      // Every other site of the prefix drained on purpose (or last heard of drained) is a choice, not a failure.
      ...(singleSite.length > 0
        ? [
            alert(t, 'AnycastPrefixSingleSite', {
              expr: singleSite.length === 1 ? singleSite[0]! : singleSite.map((e) => `(${e})`).join('\nor '),
              for: '1m',
              severity: 'critical',
              summary: 'anycast prefix {{ $labels.prefix }} is announced by one site only, and not every other site of it is drained: one more failure takes it off the internet',
            }),
          ]
        : []),
      // Drains do not silence this one: a prefix announced nowhere is an outage, however it came about.
      alert(t, 'AnycastPrefixWithdrawnEverywhere', {
        expr: `max by (prefix) (${ANNOUNCED}) == 0`,
        for: '30s',
        severity: 'critical',
        summary: 'no site Prometheus reaches announces anycast prefix {{ $labels.prefix }}: its name servers are off the internet',
      }),
    ],
  };
}
