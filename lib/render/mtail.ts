// mtail on nginx caches, when the model has `monitoring`: nginx's stub_status has no cache
// counters, so one long-lived mtail process reads the access log nginx already writes and counts
// each request's cache status ($upstream_cache_status) and each fetch from the shield or origin
// ($upstream_status). No process per request and no nginx module beyond Debian's. Squid's cache
// manager has these counters, so Squid caches need none.
import { fileText, headerLines } from './header.ts';
import { LOG_FIELDS } from './nginx.ts';
import { PATHS } from './paths.ts';
import { blank, comment, counter, emitMtail, inc, re, when, type Node } from './syntax/mtail.ts';
import { hasRole } from '../model/facts.ts';
import type { Renderer } from './types.ts';

/** The metrics the program exports (the alert rules read them). */
export const NGINX_LOG_METRICS = {
  /** Requests that looked up the cache, by $upstream_cache_status (HIT, MISS, EXPIRED, STALE, UPDATING, REVALIDATED, BYPASS). */
  cacheRequests: 'anycdn_nginx_cache_requests_total',
  /** Requests nginx passed upstream (the shield, the origin, the transform server). */
  upstreamRequests: 'anycdn_nginx_upstream_requests_total',
  /** Of those, the ones where any upstream answered 5xx or failed (nginx logs 502 or 504 for those). */
  upstreamErrors: 'anycdn_nginx_upstream_errors_total',
} as const;

/** $upstream_cache_status values that were answered from the cache. */
export const NGINX_CACHE_HITS = ['HIT', 'STALE', 'UPDATING', 'REVALIDATED'] as const;

/** One status, or several (`502, 200` after a retry; ` : ` after an internal redirect). */
const STATUSES = '[0-9]{3}(?:(?:, | : )[0-9]{3})*';

export function mtailProgram(): Node[] {
  const m = NGINX_LOG_METRICS;
  return [
    counter(m.cacheRequests, 'cache_status'),
    counter(m.upstreamRequests),
    counter(m.upstreamErrors),
    blank,
    comment(`A request that did not look up the cache logs ${LOG_FIELDS.cacheStatus}- and is not counted.`),
    when(re(` ${LOG_FIELDS.cacheStatus}(?P<cache_status>[A-Z]+) ${LOG_FIELDS.upstream}`), [inc(m.cacheRequests, 'cache_status')]),
    comment(`A request answered without an upstream logs ${LOG_FIELDS.upstreamStatus}-.`),
    when(re(` ${LOG_FIELDS.upstreamStatus}(?P<upstream_status>${STATUSES}) ${LOG_FIELDS.upstreamTime}`), [
      inc(m.upstreamRequests),
      when(re('(^|[ ,:])5[0-9]{2}'), [inc(m.upstreamErrors)], 'upstream_status'),
    ]),
  ];
}

export const renderMtail: Renderer = (t, site, host) => {
  if (!t.cdn.monitoring || !hasRole(host, 'cache') || host.cacheEngine !== 'nginx') return [];
  return [
    {
      site: site.id,
      host: host.name,
      path: PATHS.mtailProgram,
      content: fileText([...headerLines(t, site.id, '#'), `# Reads ${PATHS.nginxAccessLog} (nginx's log_format anycdn).`, '', ...emitMtail(mtailProgram())]),
      mode: 0o644,
      check: 'mtail',
    },
  ];
};
