// Squid on cache hosts (cacheEngine: squid): an accelerator (reverse proxy) for the image host only,
// never a forward proxy.
//
// - The one http_port is `accel no-vhost` with defaultsite=<imageHost>: Squid ignores the Host
//   header and even an absolute URI's host, so every request names the image host, and the only
//   servers it ever contacts are its cache_peer parents (`never_direct allow all`).
// - http_access: CONNECT and every method but GET/HEAD are denied, the cache manager is
//   localhost-only (a loopback port serves it to the exporter with `monitoring`, and nothing
//   else; without it no port listens on localhost), and only the image host and the health icon
//   are allowed. The parents are restricted to the image host with cache_peer_access as well.
// - Parents (lib/render/squid-origins.ts): at every site but the shield, the shield site's image
//   VIP first, then the origins in priority order; connect-fail-limit marks a dead parent down
//   fast and retry_on_error moves a 5xx on to the next parent.
// - Only the statuses in cache.validSec are stored (store_miss on the reply's status): Squid would
//   otherwise keep any error it may cache negatively, a shield's 502 included, for negative_ttl.
// - Response headers match nginx's: X-Cache-Status (HIT or MISS) and X-Served-By are added; Squid's
//   own X-Cache, X-Cache-Lookup and Via, and any upstream's, never reach a client.
// - Query strings are cut by a tiny url_rewrite helper unless cache.keyIncludesQuery.
import type { Host, Site, Topology } from '../model/schema.ts';
import { CACHE_HEALTH } from './cache-health.ts';
import { hasRole, s3Origins } from '../model/facts.ts';
import { hostPort, unitEndpoints, withPurpose } from './endpoints.ts';
import { squidParents } from './squid-origins.ts';
import { validEntries } from './cache-origin.ts';
import { fileText, headerLines } from './header.ts';
import { PATHS } from './paths.ts';
import { blank, comment, directive as d, emitSquid, type SquidLine } from './syntax/squid.ts';
import { emitSh, sh } from './syntax/shell.ts';
import type { RenderedFile, Renderer } from './types.ts';
import { derivedPeerLines } from './squid-transforms.ts';

const IMAGE_EXTENSIONS = ['avif', 'gif', 'ico', 'jpe?g', 'png', 'svg', 'webp'];
const S3_HIDDEN = ['X-Amz-Id-2', 'X-Amz-Request-Id', 'X-Amz-Server-Side-Encryption', 'X-Amz-Version-Id', 'X-Amz-Replication-Status', 'X-Amz-Storage-Class'];

export const renderSquid: Renderer = (t, site, host) => {
  if (!hasRole(host, 'cache') || host.cacheEngine !== 'squid') return [];
  const files: RenderedFile[] = [
    {
      site: site.id,
      host: host.name,
      path: PATHS.squidConf,
      content: fileText([...headerLines(t, site.id, '#'), '', ...emitSquid(squidLines(t, site, host))]),
      mode: 0o644,
      check: 'squid',
    },
  ];
  if (!t.cdn.cache.keyIncludesQuery) {
    files.push({
      site: site.id,
      host: host.name,
      path: PATHS.squidStripQuery,
      content: fileText(emitSh(['#!/bin/sh', ...headerLines(t, site.id, '#'), ...STRIP_QUERY])),
      mode: 0o755,
      check: 'shell',
    });
  }
  return files;
};

/** The Squid url_rewrite helper: one URL per line in, `OK rewrite-url=...` or `ERR` out. Only sh builtins. */
const STRIP_QUERY = [
  '# Squid url_rewrite helper (cache.keyIncludesQuery: false): drops the query string, so',
  '# /a.jpg?x=1 and /a.jpg are one cached object and the origin never sees the query.',
  sh`while IFS= read -r line; do
	url=\${line%% *}
	case $url in
	*\?*) printf 'OK rewrite-url=%s\n' "\${url%%\?*}" ;;
	*) echo ERR ;;
	esac
done`,
];

/** Headers clients never see: Squid's own cache headers and any upstream's, and the origin's Server. */
const HIDDEN = ['Server', 'Via', 'X-Cache', 'X-Cache-Lookup', 'X-Cache-Status', 'X-Served-By'];

/**
 * Statuses Squid may negatively cache (HttpStateData::reusableReply in Squid 5: these are kept
 * for negative_ttl when the reply has no Expires); their TTL is one value for all.
 */
const NEGATIVE = [204, 305, 400, 403, 404, 405, 414, 421, 500, 501, 502, 503, 504];

/** The statuses in cache.validSec, or undefined when `any` keeps every status. */
export function keptStatuses(t: Topology): number[] | undefined {
  if (t.cdn.cache.validSec.any !== undefined) return undefined;
  return validEntries(t).map(([s]) => Number(s));
}

/**
 * negative_ttl: the shortest TTL among the kept statuses Squid caches negatively (one value serves
 * them all, so none stays longer than the model says), 0 when none is kept.
 */
export function negativeTtl(t: Topology): number {
  const v = t.cdn.cache.validSec;
  const ttls = NEGATIVE.map((s) => v[String(s)] ?? v.any).filter((x): x is number => x !== undefined);
  return ttls.length === 0 ? 0 : Math.min(...ttls);
}

function minutesCeil(sec: number): number {
  return Math.ceil(sec / 60);
}

export function squidLines(t: Topology, site: Site, host: Host): SquidLine[] {
  const c = t.cdn.cache;
  const sq = c.squid;
  const endpoints = unitEndpoints(t, site, host, 'squid');
  const [serving] = withPurpose(endpoints, 'cache-http');
  if (!serving || serving.reach.from !== 'site-lb') throw new Error(`internal: squid on ${host.name} has no cache-http endpoint for the lb hosts`);
  // With `monitoring`: a loopback port on which Squid answers its cache manager and nothing else, for prometheus-squid-exporter.
  const managers = withPurpose(endpoints, 'cache-manager');
  const fresh200 = c.validSec['200'] ?? c.validSec.any;
  const kept = keptStatuses(t);

  const lines: SquidLine[] = [
    comment('Accelerator for the image host only; Host headers and absolute URIs cannot pick another site.'),
    d('http_port', hostPort(serving), 'accel', `defaultsite=${t.cdn.imageHost}`, 'no-vhost'),
    ...managers.flatMap((e) => [
      comment('The cache manager for prometheus-squid-exporter: loopback only, and nothing but the manager.'),
      d('http_port', hostPort(e), 'accel', `defaultsite=${t.cdn.imageHost}`, 'no-vhost'),
      d('acl', 'manager_port', 'localport', e.port!),
    ]),
    d('visible_hostname', host.name),
    d('httpd_suppress_version_string', 'on'),
    d('icp_port', 0),
    d('htcp_port', 0),
    blank,
    d('acl', 'image_host', 'dstdomain', t.cdn.imageHost),
    d('acl', 'read_methods', 'method', 'GET', 'HEAD'),
    d('acl', 'CONNECT', 'method', 'CONNECT'),
    comment('haproxy health check: a static icon Squid serves itself, whatever the origin does.'),
    d('acl', 'cache_health', 'urlpath_regex', `^${CACHE_HEALTH.squid.path.replace(/\./g, '[.]')}$`),
    d('acl', 'lb_hosts', 'src', ...serving.reach.addresses),
    blank,
    d('http_access', 'deny', 'CONNECT'),
    d('http_access', 'deny', '!read_methods'),
    ...(managers.length > 0 ? [d('http_access', 'deny', 'manager_port', '!manager')] : []),
    d('http_access', 'allow', 'localhost', 'manager'),
    d('http_access', 'deny', 'manager'),
    d('http_access', 'allow', 'cache_health'),
    d('http_access', 'allow', 'image_host'),
    d('http_access', 'deny', 'all'),
    d('icp_access', 'deny', 'all'),
    d('htcp_access', 'deny', 'all'),
    blank,
    comment('Client addresses in the logs: haproxy on the lb hosts adds X-Forwarded-For.'),
    d('follow_x_forwarded_for', 'allow', 'lb_hosts'),
    d('follow_x_forwarded_for', 'deny', 'all'),
    blank,
    comment('Misses go only to the parents below, never straight to a server named in a request.'),
    d('never_direct', 'allow', 'all'),
  ];
  lines.push(
    ...squidParents(t, site),
    d('peer_connect_timeout', c.originConnectTimeoutSec, 'seconds'),
    d('read_timeout', c.originReadTimeoutSec, 'seconds'),
    blank,
    comment('Images are public: no cookies or credentials go to the origin, and no cookie comes back.'),
    d('request_header_access', 'Cookie', 'deny', 'all'),
    d('request_header_access', 'Authorization', 'deny', 'all'),
    d('reply_header_access', 'Set-Cookie', 'deny', 'all'),
    comment('Response headers, as nginx: the cache adds X-Cache-Status (HIT or MISS) and X-Served-By, and'),
    comment("drops Squid's own and every upstream's (a shield's) cache headers, which name internal hosts."),
    ...HIDDEN.map((h) => d('reply_header_access', h, 'deny', 'all')),
    ...(s3Origins(t.cdn).length > 0 ? S3_HIDDEN.map((h) => d('reply_header_access', h, 'deny', 'all')) : []),
    comment('HIT: answered from this cache without asking a parent, with a status it keeps.'),
    d('acl', 'from_cache', 'hier_code', 'HIER_NONE'),
    ...(kept ? [d('acl', 'kept_status', 'http_status', ...kept)] : []),
    d('acl', 'cache_hit', 'all-of', 'from_cache', ...(kept ? ['kept_status'] : [])),
    d('reply_header_add', 'X-Cache-Status', 'HIT', 'cache_hit'),
    d('reply_header_add', 'X-Cache-Status', 'MISS', '!cache_hit'),
    d('reply_header_add', 'X-Served-By', host.name),
    blank,
  );
  if (!c.keyIncludesQuery) {
    lines.push(
      comment('cache.keyIncludesQuery is false: one object per path.'),
      d('url_rewrite_program', PATHS.squidStripQuery),
      d('url_rewrite_children', 8, 'startup=2', 'idle=1'),
      d('url_rewrite_access', 'allow', 'image_host'),
      d('url_rewrite_access', 'deny', 'all'),
      blank,
    );
  }
  lines.push(
    d('cache_mem', sq.cacheMemMiB, 'MB'),
    d('maximum_object_size_in_memory', 1, 'MB'),
    d('maximum_object_size', sq.maximumObjectSizeMiB, 'MB'),
    sq.storeType === 'rock' ? d('cache_dir', 'rock', sq.path, sq.cacheDirMiB) : d('cache_dir', 'aufs', sq.path, sq.cacheDirMiB, 16, 256),
    d('collapsed_forwarding', 'on'),
    ...(kept
      ? [
          comment('Only the statuses in cache.validSec are stored: never a 5xx (a shield or origin blip) unless listed.'),
          d('store_miss', 'deny', '!kept_status'),
        ]
      : []),
    comment('How long a kept error (404, ...) stays; Squid applies this to every error it may store.'),
    d('negative_ttl', negativeTtl(t), 'seconds'),
    ...(fresh200 === undefined
      ? []
      : [d('refresh_pattern', '-i', `[.](${IMAGE_EXTENSIONS.join('|')})([?].*)?$`, minutesCeil(fresh200), '100%', minutesCeil(fresh200))]),
    d('refresh_pattern', '.', 0, '20%', 4320),
    blank,
    d('cache_effective_user', 'proxy'),
    d('pid_filename', PATHS.squidPid),
    d('access_log', `stdio:${PATHS.squidAccessLog}`, 'squid'),
    d('cache_log', PATHS.squidCacheLog),
    d('cache_store_log', 'none'),
    d('coredump_dir', PATHS.squidCoredumpDir),
    d('client_db', 'off'),
    d('shutdown_lifetime', 1, 'seconds'),
    d('pinger_enable', 'off'),
  );
  return lines;
}
