// The caches: the daemon itself, how much it answers from cache and how often its fetches fail
// (Squid's cache manager counters; nginx's from its access log through mtail), and the disk its
// cache directory lives on. The records make one series per cache host whatever its engine, so
// each alert is written once.
import { cacheHosts } from '../../model/facts.ts';
import type { Topology } from '../../model/schema.ts';
import { NGINX_CACHE_HITS, NGINX_LOG_METRICS } from '../mtail.ts';
import { anyOf, str } from '../syntax/promql.ts';
import { alert, lines, record, type RuleGroup } from './rule.ts';

const HIT_RATIO = 'anycdn:cache_hit_ratio:rate30m';
const REQUESTS = 'anycdn:cache_requests:rate30m';
const FETCHES = 'anycdn:cache_origin_fetches:rate10m';
const FETCH_ERRORS = 'anycdn:cache_origin_errors:rate10m';
const AVAIL = 'anycdn:cache_filesystem_avail_bytes';
const SIZE = 'anycdn:cache_filesystem_size_bytes';

/** The directories from `/` down to `path`: every mount point that can hold it. */
function mountCandidates(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return ['/', ...parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`)];
}

/**
 * The node exporter's `metric` for the filesystem a cache directory lives on, one series per
 * cache host of an engine (a host with a target in the engine's scrape job, so a cache added to
 * the model changes no rule): the deepest mount point among the directory and its parents. Each
 * candidate is taken unless the host has a deeper one (PromQL cannot compare the lengths of
 * label values).
 */
export function cacheFilesystem(metric: string, engine: 'nginx' | 'squid', path: string): string {
  const candidates = mountCandidates(path);
  const terms = candidates
    .map((mount, i) => {
      const deeper = candidates.slice(i + 1);
      const own = `${metric}{mountpoint=${str(mount)}}`;
      return deeper.length === 0 ? own : `(${own} unless on (site, host) ${metric}{mountpoint=~${anyOf(deeper)}})`;
    })
    .reverse();
  return lines('(', ...terms.map((term, i) => `  ${i === 0 ? '' : 'or '}${term}`), `) and on (site, host) up{job=${str(engine)}}`);
}

export function cacheGroup(t: Topology): RuleGroup {
  const m = t.cdn.monitoring!;
  const by = 'sum by (site, host)';
  const n = NGINX_LOG_METRICS;
  const hosts = t.sites.flatMap(cacheHosts);
  // The engines the model runs: each has its own cache path.
  const engines = (['nginx', 'squid'] as const).filter((engine) => hosts.some((h) => h.cacheEngine === engine));
  const filesystem = (metric: string) => engines.map((e, i) => (i === 0 ? '' : 'or ') + cacheFilesystem(metric, e, t.cdn.cache[e].path)).join('\n');
  // An nginx cache that never hit has no HIT series: 0 hits, not no answer.
  const noneYet = (metric: string, range: string) => `(${by} (rate(${metric}[${range}])) * 0)`;
  return {
    name: 'anycdn-cache',
    rules: [
      record(REQUESTS, lines(`${by} (rate(squid_client_http_requests_total[30m]))`, `or ${by} (rate(${n.cacheRequests}[30m]))`)),
      record(
        HIT_RATIO,
        lines(
          '(',
          `  ${by} (rate(squid_client_http_hits_total[30m]))`,
          `  or ${by} (rate(${n.cacheRequests}{cache_status=~${anyOf(NGINX_CACHE_HITS)}}[30m]))`,
          `  or ${noneYet(n.cacheRequests, '30m')}`,
          `) / ${REQUESTS}`,
        ),
      ),
      record(FETCHES, lines(`${by} (rate(squid_server_http_requests_total[10m]))`, `or ${by} (rate(${n.upstreamRequests}[10m]))`)),
      record(
        FETCH_ERRORS,
        lines(`${by} (rate(squid_server_http_errors_total[10m]))`, `or ${by} (rate(${n.upstreamErrors}[10m]))`, `or ${noneYet(n.upstreamRequests, '10m')}`),
      ),
      ...(engines.length > 0 ? [record(AVAIL, filesystem('node_filesystem_avail_bytes')), record(SIZE, filesystem('node_filesystem_size_bytes'))] : []),
      alert(t, 'CacheDaemonDown', {
        expr: 'nginx_up == 0 or squid_up == 0',
        for: '1m',
        severity: 'critical',
        summary: 'the cache daemon on {{ $labels.host }} ({{ $labels.site }}) does not answer its exporter',
      }),
      alert(t, 'CacheHitRatioLow', {
        expr: `${HIT_RATIO} < ${m.hitRatioMin} and on (site, host) ${REQUESTS} > 1`,
        for: '15m',
        severity: 'warning',
        summary: `{{ $labels.host }} ({{ $labels.site }}) answers {{ $value | humanizePercentage }} of requests from cache, below ${m.hitRatioMin}`,
      }),
      alert(t, 'OriginErrors', {
        expr: `${FETCH_ERRORS} / (${FETCHES} > 0) > ${m.originErrorRatioMax}`,
        for: '10m',
        severity: 'warning',
        summary: `{{ $value | humanizePercentage }} of {{ $labels.host }}'s fetches from the shield or origin fail ({{ $labels.site }}), above ${m.originErrorRatioMax}`,
      }),
      ...(engines.length > 0
        ? [
            // A cache fills its disk up to its own cap (cache.nginx.maxSizeGiB, cache.squid.cacheDirMiB)
            // and stays there, so only little room left *and* still falling is worth a look.
            alert(t, 'CacheDiskFillingUp', {
              expr: lines(`${AVAIL} / ${SIZE} < 0.2`, `and predict_linear(${AVAIL}[6h], 24 * 3600) < 0`),
              for: '1h',
              severity: 'warning',
              summary: 'the filesystem of the cache on {{ $labels.host }} ({{ $labels.site }}), {{ $labels.mountpoint }}, has less than 20% left and fills up within a day at this rate',
            }),
            alert(t, 'CacheDiskFull', {
              expr: `${AVAIL} / ${SIZE} < 0.05`,
              for: '5m',
              severity: 'critical',
              summary: 'the filesystem of the cache on {{ $labels.host }} ({{ $labels.site }}), {{ $labels.mountpoint }}, has {{ $value | humanizePercentage }} left: the cache cannot store what it fetches',
            }),
          ]
        : []),
    ],
  };
}
