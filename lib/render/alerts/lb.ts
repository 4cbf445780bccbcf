// The lb hosts and the routing: who holds each site's image VIP (keepalived, through the node
// exporter's textfile), what haproxy sees of its caches and serves, and bird's BGP and BFD sessions.
import type { Topology } from '../../model/schema.ts';
import { BACKEND } from '../haproxy.ts';
import { str } from '../syntax/promql.ts';
import { BFD_NOT_UP_SUMMARY, bfdNotUpExpr } from './bfd.ts';
import { alert, lines, type RuleGroup } from './rule.ts';
import { HOST_SILENT } from './scrape.ts';

export function lbGroup(t: Topology): RuleGroup {
  const m = t.cdn.monitoring!;
  const by = 'sum by (site, host)';
  const caches = `{proxy=${str(BACKEND)}`;
  const bfd = bfdNotUpExpr(t);
  return {
    name: 'anycdn-lb',
    rules: [
      alert(t, 'VrrpNoMaster', { expr: 'sum by (site) (anycdn_vrrp_master) < 1', for: '30s', severity: 'critical', summary: 'no lb host of {{ $labels.site }} holds the image VIP' }),
      alert(t, 'VrrpTwoMasters', {
        expr: 'sum by (site) (anycdn_vrrp_master) > 1',
        for: '30s',
        severity: 'critical',
        summary: 'both lb hosts of {{ $labels.site }} claim the image VIP (VRRP adverts lost between them?)',
      }),
      // haproxy names each server after its cache host: a cache host that is down altogether is HostDown's.
      alert(t, 'CacheDown', {
        expr: lines(`haproxy_server_status${caches},state="DOWN"} == 1`, `unless on (site, server) label_replace(${HOST_SILENT}, "server", "$1", "host", "(.*)")`),
        for: '1m',
        severity: 'warning',
        summary: 'haproxy on {{ $labels.host }} ({{ $labels.site }}) sees cache {{ $labels.server }} down',
      }),
      alert(t, 'BgpSessionDown', {
        expr: 'bird_protocol_up{proto="BGP"} == 0',
        for: '1m',
        severity: 'critical',
        summary: 'BGP session {{ $labels.name }} of {{ $labels.host }} ({{ $labels.site }}) is down',
      }),
      ...(bfd ? [alert(t, 'BfdSessionNotUp', { expr: bfd, for: '1m', severity: 'warning', summary: BFD_NOT_UP_SUMMARY })] : []),
      alert(t, 'ImageErrors', {
        expr: `${by} (rate(haproxy_backend_http_responses_total${caches},code="5xx"}[10m])) / ${by} (rate(haproxy_backend_http_responses_total${caches}}[10m]) > 0) > ${m.originErrorRatioMax}`,
        for: '10m',
        severity: 'warning',
        summary: `{{ $value | humanizePercentage }} of the images haproxy on {{ $labels.host }} ({{ $labels.site }}) serves are 5xx (origin errors the caches could not cover with stale copies), above ${m.originErrorRatioMax}`,
      }),
    ],
  };
}
