// What Prometheus cannot reach, one alert per failure: a site whose hosts all stopped answering,
// else a host none of whose exporters answers, else one exporter. The narrower alerts exclude
// what a wider one already says, in the expression itself rather than in Alertmanager's
// inhibit_rules: anycdn does not render the Alertmanager config, and promtool can test
// expressions (not inhibitions). A host or site its checkers last reported drained is silent.
import type { Topology } from '../../model/schema.ts';
import { HEALTHCHECK_JOB, unlessDrained } from './anycast.ts';
import { alert, lines, type RuleGroup } from './rule.ts';

/** Every target of a host down: nothing on it answers Prometheus. */
export const HOST_SILENT = '(max by (site, host) (up) == 0)';
const SITE_SILENT = '(max by (site) (up) == 0)';

export function scrapeGroup(t: Topology): RuleGroup {
  return {
    name: 'anycdn-scrape',
    rules: [
      alert(t, 'SiteUnreachable', {
        expr: unlessDrained('max by (site) (up) == 0', 'site'),
        for: '2m',
        severity: 'critical',
        summary: 'no host of {{ $labels.site }} answers Prometheus: the site is down or cut off (or Prometheus is)',
      }),
      alert(t, 'HostDown', {
        expr: unlessDrained(lines(`max by (site, host) (up) == 0`, `unless on (site) ${SITE_SILENT}`)),
        for: '2m',
        severity: 'warning',
        summary: 'no exporter on {{ $labels.host }} ({{ $labels.site }}) answers Prometheus: the host is down or unreachable',
      }),
      // The checker's own job is HealthcheckerDown's, a page.
      alert(t, 'ExporterDown', {
        expr: unlessDrained(lines(`up{job!="${HEALTHCHECK_JOB}"} == 0`, `unless on (site, host) ${HOST_SILENT}`)),
        for: '2m',
        severity: 'warning',
        summary: 'Prometheus cannot scrape {{ $labels.job }} on {{ $labels.host }} ({{ $labels.site }})',
      }),
    ],
  };
}
