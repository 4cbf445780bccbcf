// nginx: the origins in priority order (lib/model/facts.ts originTargets), each tried when the one
// before it fails.
//
// An upstream's `backup` servers would share one location, so one Host header and one TLS name
// (proxy_set_header and proxy_ssl_name are per location, not per server), and S3 buckets in
// different regions need different ones. So each origin is an upstream of its own, proxied from a
// location of its own with its own Host and SNI, and the locations form a chain: `location /` (the
// shield at sites behind one, else the first origin) hands a connect error, a timeout or a 5xx to
// the next named location with error_page, down to the last origin, whose answer is final.
//
// - proxy_cache_use_stale still comes first: a cached copy is served stale before any fallback,
//   so the chain only runs for misses.
// - Within one origin, proxy_next_upstream (error and timeout) tries the hostname's other
//   addresses; an origin with a successor stops after ORIGIN_TRIES of them, so a dead S3 region
//   costs a miss at most that many connect timeouts before the next origin.
// - A one-origin model renders exactly as before: upstream `origin`, and `@origin` behind a shield.
import { originName, type OriginTarget } from '../model/facts.ts';
import { blank, block, stmt, type Node } from './syntax/brace.ts';
import { quote } from './syntax/nginx.ts';

/** Addresses of one origin a miss tries before the next origin; the last origin tries them all. */
export const ORIGIN_TRIES = 2;
/** Statuses that move a miss on to the next upstream in the chain. */
const FAIL_STATUSES = [500, 502, 503, 504] as const;
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * One upstream block per origin, so connections are pooled (keepalive) and TLS sessions reused.
 * nginx resolves a hostname here when it starts or reloads, not per request; the unit restarts on
 * failure, so a start during a DNS outage retries, and a reload picks up new origin addresses.
 */
export function originUpstreams(origins: OriginTarget[]): Node[] {
  return origins.flatMap((o, i) => [
    ...(i > 0 ? [blank] : []),
    ...(origins.length > 1 ? [{ kind: 'comment' as const, text: `Origin ${i + 1} of ${origins.length}${i === 0 ? '' : ', when the ones above fail'}.` }] : []),
    block(['upstream', originName(i)], [stmt('server', quote(`${o.host}:${o.port}`)), stmt('keepalive', 32), stmt('keepalive_requests', 1000), stmt('keepalive_timeout', '60s')]),
  ]);
}

/** proxy_set_header is all-or-nothing per level, so each proxying location sets the whole list. */
export function requestHeaders(hostHeader: string): Node[] {
  return [
    stmt('proxy_set_header', 'Host', quote(hostHeader)),
    stmt('proxy_set_header', 'Connection', quote('')),
    stmt('proxy_set_header', 'Cookie', quote('')),
    stmt('proxy_set_header', 'Authorization', quote('')),
  ];
}

/** Hands this location's connect errors, timeouts and 5xx to the named location `next`. */
export function fallThrough(next: string): Node[] {
  return [stmt('proxy_intercept_errors', 'on'), stmt('error_page', ...FAIL_STATUSES, '=', `@${next}`)];
}

/** The directives that proxy to origin `index`, with its Host and TLS name. */
export function originProxy(o: OriginTarget, index: number, last: boolean): Node[] {
  const nodes: Node[] = [stmt('proxy_pass', `${o.tls ? 'https' : 'http'}://${originName(index)}`), ...requestHeaders(o.hostHeader)];
  if (o.tls) {
    nodes.push(
      stmt('proxy_ssl_server_name', 'on'),
      stmt('proxy_ssl_name', quote(o.host)),
      stmt('proxy_ssl_protocols', 'TLSv1.2', 'TLSv1.3'),
      stmt('proxy_ssl_verify', 'on'),
      stmt('proxy_ssl_verify_depth', 4),
      stmt('proxy_ssl_trusted_certificate', quote(CA_BUNDLE)),
      stmt('proxy_ssl_session_reuse', 'on'),
    );
  }
  if (!last) nodes.push(stmt('proxy_next_upstream_tries', ORIGIN_TRIES), ...fallThrough(originName(index + 1)));
  return nodes;
}

/**
 * The image server's proxying locations: `location /` (with `first`, the shield's directives, or
 * the first origin's) and one named location per origin after it. A chain of more than two
 * needs recursive_error_pages, so an error_page may fire inside a location reached by one.
 */
export function originLocations(origins: OriginTarget[], stripQuery: Node[], shield?: (next: string) => Node[]): Node[] {
  const named = shield ? origins.map((o, i) => [i, o] as const) : origins.slice(1).map((o, i) => [i + 1, o] as const);
  const first = shield ? shield(originName(0)) : originProxy(origins[0]!, 0, origins.length === 1);
  const chain = 1 + named.length;
  return [
    ...(chain > 2 ? [blank, { kind: 'comment' as const, text: 'Each origin below is tried when the one above fails.' }, stmt('recursive_error_pages', 'on')] : []),
    blank,
    block(['location', '/'], [...stripQuery, ...first]),
    ...named.flatMap(([i, o]) => [blank, block(['location', `@${originName(i)}`], originProxy(o, i, i === origins.length - 1))]),
  ];
}
