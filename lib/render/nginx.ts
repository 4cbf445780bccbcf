// nginx on cache hosts (cacheEngine: nginx): a reverse-proxy cache in front of its origins, never a
// general proxy (proxy_pass targets are fixed upstreams, and only the image host is served).
//
// - Three servers: stub_status on 127.0.0.1 only; a default server on the host address that
//   answers haproxy's health check and refuses every other Host with 421; the image host itself.
// - Only GET and HEAD (405 otherwise). Query strings are dropped before the cache key and the
//   origin request unless cache.keyIncludesQuery, so /a.jpg?x=1 cannot fill the cache twice.
// - Stale content on origin errors, background refresh, and a cache lock collapsing concurrent
//   misses into one origin fetch.
// - Origin hostnames sit in `upstream` blocks so the keepalive pool works; nginx resolves them at
//   start and reload. The origins are tried in priority order (lib/render/nginx-origins.ts). The
//   shield is an address, so it never needs DNS.
// - Every path is explicit, so `nginx -t -p PREFIX -c FILE` works anywhere. `daemon off` is a
//   command-line -g flag in the unit, so operators can still run the file by hand as a daemon.
import type { Host, Site, Topology } from '../model/schema.ts';
import { CACHE_HEALTH } from './cache-health.ts';
import { hasRole, originTargets, s3Origins, shieldTarget, type OriginTarget } from '../model/facts.ts';
import { endpointOf, hostPort, NGINX_STATUS, type Endpoint } from './endpoints.ts';
import { fallThrough, originLocations, originUpstreams, requestHeaders } from './nginx-origins.ts';
import { validEntries } from './cache-origin.ts';
import { fileText, headerLines } from './header.ts';
import { PATHS } from './paths.ts';
import { blank, block, stmt, type Node } from './syntax/brace.ts';
import { emitNginx, quote, template } from './syntax/nginx.ts';
import { ip } from './syntax/word.ts';
import type { Renderer } from './types.ts';
import { derivedLocations, originalsListen, transformHttp } from './nginx-transforms.ts';

const ZONE = 'anycdn';
/** The variable that is 1 for a status cache.validSec does not list. */
const NO_STORE = 'anycdn_no_store';
const TEMP_KINDS = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'] as const;
/** A shield's cache headers (nginx's or Squid's); nginx itself hides the upstream's Server and Date. */
const UPSTREAM_HIDDEN = ['Via', 'X-Cache', 'X-Cache-Lookup', 'X-Cache-Status', 'X-Served-By'];
/** Origin response headers clients never need to see. */
const S3_HIDDEN = ['x-amz-id-2', 'x-amz-request-id', 'x-amz-server-side-encryption', 'x-amz-version-id', 'x-amz-replication-status', 'x-amz-storage-class'];

/** The access log's keyed fields, which mtail's program reads (lib/render/mtail.ts). */
export const LOG_FIELDS = { cacheStatus: 'cache=', upstream: 'upstream=', upstreamStatus: 'upstream_status=', upstreamTime: 'upstream_time=' } as const;

const LOG_FORMAT = template(
  `$remote_addr [$time_local] "$request" $status $body_bytes_sent $request_time ` +
    `${LOG_FIELDS.cacheStatus}$upstream_cache_status ${LOG_FIELDS.upstream}$upstream_addr ${LOG_FIELDS.upstreamStatus}$upstream_status ` +
    `${LOG_FIELDS.upstreamTime}$upstream_response_time "$http_referer" "$http_user_agent"`,
);

export const renderNginx: Renderer = (t, site, host) => {
  if (!hasRole(host, 'cache') || host.cacheEngine !== 'nginx') return [];
  return [
    {
      site: site.id,
      host: host.name,
      path: PATHS.nginxConf,
      content: fileText([...headerLines(t, site.id, '#'), '', ...emitNginx(nginxTree(t, site, host))]),
      mode: 0o644,
      check: 'nginx',
    },
  ];
};

/** The directory a temp path kind lives in (nginx creates the last component itself). */
export function nginxTempPath(kind: (typeof TEMP_KINDS)[number]): string {
  return `${PATHS.nginxTempDir}/${kind === 'client_body' ? 'body' : kind}`;
}

export function nginxTree(t: Topology, site: Site, host: Host): Node[] {
  return [
    stmt('user', 'www-data'),
    stmt('worker_processes', 'auto'),
    stmt('worker_rlimit_nofile', 65536),
    stmt('pid', quote(PATHS.nginxPid)),
    stmt('error_log', quote(PATHS.nginxErrorLog), 'warn'),
    blank,
    block(['events'], [stmt('worker_connections', 8192)]),
    blank,
    block(['http'], httpBody(t, site, host)),
  ];
}

function httpBody(t: Topology, site: Site, host: Host): Node[] {
  const c = t.cdn.cache;
  const serving = endpointOf(t, site, host, 'nginx', 'cache-http');
  const status = endpointOf(t, site, host, 'nginx', 'cache-status');
  const origins = originTargets(t);
  const shield = shieldTarget(t, site);
  const nodes: Node[] = [
    stmt('server_tokens', 'off'),
    stmt('default_type', 'application/octet-stream'),
    stmt('sendfile', 'on'),
    stmt('tcp_nopush', 'on'),
    stmt('tcp_nodelay', 'on'),
    stmt('keepalive_timeout', '65s'),
    stmt('keepalive_requests', 10000),
    stmt('reset_timedout_connection', 'on'),
    stmt('client_max_body_size', '1k'),
    blank,
    ...TEMP_KINDS.map((k) => stmt(`${k}_temp_path`, quote(nginxTempPath(k)))),
    blank,
    stmt('log_format', ZONE, LOG_FORMAT),
    stmt('access_log', quote(PATHS.nginxAccessLog), ZONE),
    blank,
    { kind: 'comment', text: 'Client addresses in the logs: haproxy on the lb hosts adds X-Forwarded-For.' },
    ...(serving.reach.from === 'site-lb' ? serving.reach.addresses : []).map((a) => stmt('set_real_ip_from', ip(a))),
    stmt('real_ip_header', 'X-Forwarded-For'),
    blank,
    stmt(
      'proxy_cache_path',
      quote(c.nginx.path),
      quote(`levels=${c.nginx.levels}`),
      quote(`keys_zone=${ZONE}:${c.nginx.keysZoneMiB}m`),
      quote(`max_size=${c.nginx.maxSizeGiB}g`),
      quote(`inactive=${c.nginx.inactiveSec}s`),
      'use_temp_path=off',
    ),
    ...keptStatusMap(t),
    blank,
    ...originUpstreams(origins),
  ];
  if (shield) {
    nodes.push(
      blank,
      { kind: 'comment', text: `Origin shield: misses go to site ${shield.site}'s image VIP first, and to the origin when it fails.` },
      block(['upstream', 'shield'], [stmt('server', quote(`${shield.address}:${shield.port}`)), stmt('keepalive', 32), stmt('keepalive_timeout', '60s')]),
    );
  }
  nodes.push(...transformHttp(t, site, host));
  nodes.push(
    blank,
    block(['server'], [
      stmt('listen', quote(hostPort(status))),
      stmt('server_name', 'localhost'),
      stmt('access_log', 'off'),
      block(['location', '=', NGINX_STATUS.path], [stmt('stub_status')]),
      block(['location', '/'], [stmt('return', 404)]),
    ]),
    blank,
    { kind: 'comment', text: 'Any Host but the image host: only the health check answers.' },
    block(['server'], [
      stmt('listen', quote(hostPort(serving)), 'default_server'),
      stmt('server_name', quote('')),
      healthLocation(),
      block(['location', '/'], [stmt('return', 421)]),
    ]),
    blank,
    block(['server'], imageServer(t, site, host, serving, origins, shield !== undefined)),
  );
  return nodes;
}

/**
 * Only the statuses in cache.validSec are stored, whatever the upstream's Cache-Control says (a
 * careless origin's `503 max-age=300` is not kept): proxy_no_cache is tested once the response
 * headers are in, when $upstream_status ends with this response's status. With `any` every
 * status is kept, and nothing is rendered.
 */
function keptStatusMap(t: Topology): Node[] {
  if (t.cdn.cache.validSec.any !== undefined) return [];
  const kept = validEntries(t).map(([s]) => s);
  return [
    blank,
    { kind: 'comment', text: 'Statuses cache.validSec does not list are never stored, whatever the upstream says.' },
    block(['map', '$upstream_status', `$${NO_STORE}`], [stmt('default', 1), stmt(`~(^|[^0-9])(${kept.join('|')})$`, 0)]),
  ];
}

function healthLocation(): Node {
  return block(['location', '=', CACHE_HEALTH.nginx.path], [stmt('access_log', 'off'), stmt('default_type', 'text/plain'), stmt('return', CACHE_HEALTH.nginx.expectStatus, 'ok')]);
}

function imageServer(t: Topology, site: Site, host: Host, serving: Endpoint, origins: OriginTarget[], viaShield: boolean): Node[] {
  const c = t.cdn.cache;
  const cacheKey = c.keyIncludesQuery ? '$uri$is_args$args' : '$uri';
  const nodes: Node[] = [
    stmt('listen', quote(hostPort(serving))),
    ...originalsListen(t, site, host),
    stmt('server_name', quote(t.cdn.imageHost)),
    blank,
    block(['if', '($request_method', '!~', '^(GET|HEAD)$', ')'], [stmt('return', 405)]),
    blank,
    stmt('proxy_cache', ZONE),
    stmt('proxy_cache_key', cacheKey),
    ...validEntries(t).map(([status, sec]) => stmt('proxy_cache_valid', quote(status), quote(`${sec}s`))),
    stmt('proxy_cache_use_stale', 'error', 'timeout', 'updating', 'http_500', 'http_502', 'http_503', 'http_504'),
    stmt('proxy_cache_background_update', 'on'),
    stmt('proxy_cache_lock', 'on'),
    stmt('proxy_cache_revalidate', 'on'),
    ...(t.cdn.cache.validSec.any === undefined ? [stmt('proxy_no_cache', `$${NO_STORE}`)] : []),
    stmt('add_header', 'X-Cache-Status', '$upstream_cache_status', 'always'),
    stmt('add_header', 'X-Served-By', quote(host.name), 'always'),
    blank,
    stmt('proxy_http_version', '1.1'),
    stmt('proxy_connect_timeout', quote(`${c.originConnectTimeoutSec}s`)),
    stmt('proxy_send_timeout', quote(`${c.originReadTimeoutSec}s`)),
    stmt('proxy_read_timeout', quote(`${c.originReadTimeoutSec}s`)),
    { kind: 'comment', text: 'Images are public: no cookies or credentials go to the origin, and no cookie comes back.' },
    stmt('proxy_ignore_headers', 'Set-Cookie'),
    stmt('proxy_hide_header', 'Set-Cookie'),
    { kind: 'comment', text: 'A shield answers with its own cache headers, which name internal hosts; clients see this cache only.' },
    ...UPSTREAM_HIDDEN.map((h) => stmt('proxy_hide_header', h)),
    ...(s3Origins(t.cdn).length > 0 ? S3_HIDDEN.map((h) => stmt('proxy_hide_header', h)) : []),
    blank,
    healthLocation(),
  ];
  const stripQuery = c.keyIncludesQuery ? [] : [stmt('rewrite', '^', '$uri?', 'break')];
  nodes.push(...derivedLocations(t, site, host, viaShield, stripQuery, cacheKey));
  const shield = viaShield ? (next: string) => [stmt('proxy_pass', 'http://shield'), ...requestHeaders(t.cdn.imageHost), ...fallThrough(next)] : undefined;
  nodes.push(...originLocations(origins, stripQuery, shield));
  return nodes;
}
