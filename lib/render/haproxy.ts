// HAProxy on lb hosts: the site's image VIP in front of its caches.
// - Both lb hosts run it and bind the VIP; the backup can because of net.ipv4.ip_nonlocal_bind=1
//   (/etc/sysctl.d/60-anycdn.conf, rendered below), so a keepalived failover needs no haproxy restart.
// - `balance uri` + `hash-type consistent`: each image lives on one cache, and a dead cache moves
//   only its own share; each server has an id of its own (lib/model/ring-id.ts), since haproxy
//   places a server on the ring by its id and would number them by position otherwise; a drained cache (state: drained, or `anycdn drain`) has weight 0 and
//   leaves the ring the same way, without failing a request. Active checks at checkInterMs, and retry-on + redispatch so a dead cache
//   costs no client request except those in flight on it.
// - `hash-balance-factor` (haproxy.hashBalanceFactor): bounded loads; a cache with more requests in
//   flight than the factor allows passes its next request to the next cache on the ring.
// - Only GET and HEAD reach the caches. The stats page and the Prometheus exporter listen on
//   haproxy.statsAddress only, never on the VIP.
// - The VIP frontend answers cdn.healthcheck.path itself (monitor-uri): 200 while at least one
//   cache is up, else 503. The anycast health checker (healthcheck.ts) probes exactly this.
// - Draining this lb host (`anycdn drain <site>/<host>`, see lib/drain/plan.ts) adds `lb-drain 1`
//   to a runtime map (rendered empty): from then on a request is refused before any response byte
//   (the connection closes), which every HTTP client may retry on a new connection, so no new
//   response starts here while the ones in flight finish, before the VIP moves to the peer.
import { cacheHosts, hasRole, isDrained } from '../model/facts.ts';
import { ringId } from '../model/ring-id.ts';
import type { Host, Site, Topology } from '../model/schema.ts';
import { CACHE_HEALTH } from './cache-health.ts';
import { endpointOf, HAPROXY_ALIVE_PATH, HAPROXY_STATS_PATH, hostPort, METRICS_PATH, unitEndpoints, withPurpose, type Endpoint } from './endpoints.ts';
import { fileText, headerLines } from './header.ts';
import { PATHS } from './paths.ts';
import { comment, emitHaproxy, ident, kw, quote, type HaproxyLine, type HaproxySection } from './syntax/haproxy.ts';
import { comment as sysctlComment, emitSysctl, setting, sysctlSettings, type SysctlLine } from './syntax/sysctl.ts';
import type { Renderer } from './types.ts';
import { derivedFrontendLines, withDerivedBackend } from './haproxy-transforms.ts';
import { derivedTimeouts, transformsOf } from '../model/transforms.ts';

/** The VIP frontend: `anycdn drain` counts its requests in flight (`show sess`: fe=images). */
export const FRONTEND = 'images';
/** The key `anycdn drain` adds to PATHS.haproxyDrainMap (value 1) while this lb host drains. */
export const LB_DRAIN_KEY = 'lb-drain';
/** The backend that spreads requests over the caches (its servers are the cache hosts, by ident). */
export const BACKEND = 'caches';
const STATS = 'stats';
const METRICS = 'metrics';
/** Cache hosts answer on the LAN: a connect that takes longer means a dead host; retry elsewhere. */
const CONNECT_TIMEOUT = '1s';
/** Requests never carry a body (GET/HEAD only); a request line longer than this is refused. */
const MAX_URL_BYTES = 8192;

export const renderHaproxy: Renderer = (t, site, host) => {
  if (!hasRole(host, 'lb')) return [];
  const sysctls = lbSysctls(site);
  return [
    {
      site: site.id,
      host: host.name,
      path: PATHS.haproxyConf,
      content: fileText([...headerLines(t, site.id, '#'), '', ...emitHaproxy(haproxyConfig(t, site, host))]),
      mode: 0o644,
      check: 'haproxy',
    },
    {
      site: site.id,
      host: host.name,
      path: PATHS.haproxyDrainMap,
      content: fileText([
        ...headerLines(t, site.id, '#'),
        '# Runtime flags, empty as rendered. `anycdn drain` of this lb host adds `lb-drain 1` over the',
        "# admin socket (add map), `anycdn undrain` clears it; a reload starts from this file again.",
      ]),
      mode: 0o644,
    },
    {
      site: site.id,
      host: host.name,
      path: PATHS.lbSysctl,
      content: fileText([...headerLines(t, site.id, '#'), ...emitSysctl(sysctls)]),
      mode: 0o644,
      check: 'sysctl',
      sysctls: sysctlSettings(sysctls),
    },
  ];
};

/** The kernel settings of an lb host. */
function lbSysctls(site: Site): SysctlLine[] {
  return [
    sysctlComment('haproxy binds the image VIP on both lb hosts, also on the one keepalived has not given it'),
    sysctlComment('to, so a failover needs no haproxy restart.'),
    setting('net.ipv4.ip_nonlocal_bind', 1),
    ...(site.vip.address6 ? [setting('net.ipv6.ip_nonlocal_bind', 1)] : []),
    sysctlComment('Only keepalived says where the VIP is: ARP requests from this host carry its own address,'),
    sysctlComment('never the VIP (2), so a router does not relearn the VIP here from a request sent as the VIP'),
    sysctlComment('moves away; and the host answers ARP only for addresses on the interface asked (1), not for'),
    sysctlComment('the anycast addresses on lo.'),
    setting('net.ipv4.conf.all.arp_announce', 2),
    setting('net.ipv4.conf.all.arp_ignore', 1),
  ];
}

export function haproxyConfig(t: Topology, site: Site, host: Host): HaproxySection[] {
  const h = site.haproxy;
  const endpoints = unitEndpoints(t, site, host, 'haproxy');
  const caches = cacheHosts(site);
  const engines = [...new Set(caches.map((c) => c.cacheEngine!))].sort();
  const global: HaproxyLine[] = [
    comment('to the journal via stdout: no syslog socket needed inside the chroot'),
    kw('log', 'stdout', 'format', 'short', 'local0'),
    kw('chroot', '/var/lib/haproxy'),
    kw('user', 'haproxy'),
    kw('group', 'haproxy'),
    kw('pidfile', PATHS.haproxyPid),
    kw('stats', 'socket', PATHS.haproxySocket, 'mode', '600', 'level', 'admin'),
    kw('stats', 'timeout', '30s'),
    kw('maxconn', h.maxConn),
    comment('a reload lets old workers finish their requests, but not forever'),
    kw('hard-stop-after', '30s'),
  ];
  if (h.https) {
    global.push(
      comment('Mozilla "intermediate" TLS settings'),
      kw('ssl-default-bind-ciphers', TLS12_CIPHERS),
      kw('ssl-default-bind-ciphersuites', TLS13_SUITES),
      kw('ssl-default-bind-options', 'ssl-min-ver', 'TLSv1.2', 'no-tls-tickets'),
    );
  }
  const defaults: HaproxyLine[] = [
    kw('mode', 'http'),
    kw('log', 'global'),
    kw('option', 'dontlognull'),
    kw('timeout', 'connect', CONNECT_TIMEOUT),
    kw('timeout', 'client', '30s'),
    kw('timeout', 'http-request', '5s'),
    kw('timeout', 'http-keep-alive', '5s'),
    kw('timeout', 'queue', '5s'),
    kw('timeout', 'server', `${serverTimeoutSec(t)}s`),
    kw('timeout', 'check', `${h.checkInterMs}ms`),
  ];
  return withDerivedBackend(t, site, [
    { head: ['global'], lines: global },
    { head: ['defaults'], lines: defaults },
    { head: ['frontend', FRONTEND], comment: 'The image VIP. Only GET and HEAD reach the caches.', lines: frontendLines(t, site, endpoints) },
    { head: ['backend', BACKEND], comment: `The site caches, by IP: ${caches.map((c) => c.name).join(', ')}.`, lines: backendLines(t, site, engines) },
    ...(engines.length > 1 ? engines.map((e) => checkBackend(t, site, e)) : []),
    { head: ['frontend', STATS], comment: 'Stats, Prometheus metrics and liveness: on the stats address only, never on the VIP.', lines: statsLines(endpoints) },
    ...withPurpose(endpoints, 'exporter-haproxy').map((e) => metricsSection(t.cdn.monitoring!, e)),
  ], BACKEND);
}

/**
 * With `monitoring`: haproxy's own Prometheus exporter on the host's address, for the scrape
 * subnets only. (Debian's prometheus-haproxy-exporter is the retired upstream exporter that read
 * the CSV stats; haproxy 2.x exports natively, with no process of its own.)
 */
function metricsSection(m: NonNullable<Topology['cdn']['monitoring']>, e: Endpoint): HaproxySection {
  return {
    head: ['frontend', METRICS],
    comment: 'Prometheus scrapes haproxy here: the host address, monitoring.scrapeFrom only, never the VIP.',
    lines: [
      kw('bind', hostPort(e)),
      kw('maxconn', 20),
      kw('no', 'log'),
      kw('http-request', 'deny', 'deny_status', '403', 'unless', '{', 'src', ...m.scrapeFrom, '}'),
      kw('http-request', 'use-service', 'prometheus-exporter', 'if', '{', 'path', e.metrics!.path, '}'),
      kw('http-request', 'return', 'status', '404'),
    ],
  };
}

function frontendLines(t: Topology, site: Site, endpoints: Endpoint[]): HaproxyLine[] {
  const h = site.haproxy;
  const lines: HaproxyLine[] = [
    ...withPurpose(endpoints, 'image-vip-http').map((e) => kw('bind', hostPort(e))),
    ...withPurpose(endpoints, 'image-vip-https').map((e) => kw('bind', hostPort(e), 'ssl', 'crt', e.certPath!, 'alpn', 'h2,http/1.1')),
  ];
  lines.push(
    kw('maxconn', h.maxConn),
    kw('option', 'httplog'),
    comment('answered here, before any http-request rule (and so never redirected): 200 while a cache is up'),
    kw('monitor-uri', t.cdn.healthcheck.path),
    kw('monitor', 'fail', 'if', '{', `nbsrv(${BACKEND})`, 'lt', '1', '}'),
    comment('`anycdn drain` of this host: refuse new requests before any byte (clients retry them on a new connection, which reaches the peer)'),
    kw('http-request', 'reject', 'if', '{', `str(${LB_DRAIN_KEY}),map_str_int(${PATHS.haproxyDrainMap},0)`, 'eq', '1', '}'),
    kw('http-request', 'return', 'status', '405', 'content-type', 'text/plain', 'string', quote('method not allowed'), 'hdr', 'Allow', quote('GET, HEAD'), 'unless', '{', 'method', 'GET', 'HEAD', '}'),
    kw('http-request', 'deny', 'deny_status', '413', 'if', '{', 'req.hdr_val(content-length)', 'gt', '0', '}', 'or', '{', 'req.hdr(transfer-encoding)', '-m', 'found', '}'),
    kw('http-request', 'return', 'status', '414', 'content-type', 'text/plain', 'string', quote('uri too long'), 'if', '{', 'url,length', 'gt', MAX_URL_BYTES, '}'),
  );
  if (h.https?.redirectHttp) lines.push(kw('http-request', 'redirect', 'scheme', 'https', 'code', '301', 'unless', '{', 'ssl_fc', '}'));
  lines.push(
    comment('the caches log the client address from X-Forwarded-For: never trust one the client sent'),
    kw('http-request', 'del-header', 'X-Forwarded-For'),
    kw('option', 'forwardfor'),
  );
  if (h.https) {
    lines.push(
      kw('http-request', 'set-header', 'X-Forwarded-Proto', 'https', 'if', '{', 'ssl_fc', '}'),
      kw('http-request', 'set-header', 'X-Forwarded-Proto', 'http', 'unless', '{', 'ssl_fc', '}'),
    );
  }
  lines.push(...derivedFrontendLines(t, site), kw('default_backend', BACKEND));
  return lines;
}

function backendLines(t: Topology, site: Site, engines: ('nginx' | 'squid')[]): HaproxyLine[] {
  const h = site.haproxy;
  // With the query in the cache key, hash it too; path-only keeps HTTP/2's absolute URIs on the
  // same cache as HTTP/1.1's origin-form ones.
  const balance = t.cdn.cache.keyIncludesQuery ? kw('balance', 'uri', 'whole', 'path-only') : kw('balance', 'uri', 'path-only');
  const lines: HaproxyLine[] = [
    balance,
    kw('hash-type', 'consistent'),
    ...balanceFactorLines(h.hashBalanceFactor),
    comment('a dead cache costs only the requests in flight on it: retry those elsewhere'),
    kw('retries', 3),
    kw('option', 'redispatch', 1),
    kw('retry-on', 'conn-failure', 'empty-response', 'response-timeout'),
  ];
  const [engine] = engines;
  if (engines.length === 1 && engine) {
    lines.push(...checkLines(t, engine), kw('default-server', ...serverCheckWords(h), ...MARK_DOWN_ON_CONNECT_ERROR));
    for (const c of cacheHosts(site)) lines.push(kw('server', ident(c.name), cacheAddress(t, site, c), ...ringWords(c)));
  } else {
    lines.push(comment('caches of each engine are checked on their own path, in the check backends below'));
    for (const c of cacheHosts(site)) {
      lines.push(kw('server', ident(c.name), cacheAddress(t, site, c), 'track', `${checkBackendName(c.cacheEngine!)}/${ident(c.name)}`, ...ringWords(c)));
    }
  }
  return lines;
}

/** Where haproxy sends a cache its requests: the cache's own serving endpoint. */
function cacheAddress(t: Topology, site: Site, c: Host): string {
  return hostPort(endpointOf(t, site, c, c.cacheEngine!, 'cache-http'));
}

/**
 * Bounded loads: a cache holding more than factor% of the mean of the outstanding requests is
 * skipped for the next one on the ring. It bounds requests in flight, not request counts: a hot
 * image spills only while its cache is busy, and the cache it spills to fetches it too.
 */
function balanceFactorLines(factor: number): HaproxyLine[] {
  if (factor === 0) return [];
  return [comment(`no cache carries more than ${factor / 100}x the mean of the requests in flight: a busy cache's next image goes to the next cache on the ring`), kw('hash-balance-factor', factor)];
}

/**
 * The cache's place on the ring: its id (lib/model/ring-id.ts), which never depends on the other
 * caches, so a cache added or removed moves only its own share. A drained cache: weight 0 takes it
 * out of the consistent hash, so only the URIs it held move (to their next server on the ring),
 * and it still finishes what it has in flight. It stays health-checked, so `anycdn undrain`
 * (`set server ... state ready`) has nothing to wait for.
 */
function ringWords(c: Host): string[] {
  return ['id', String(ringId(c)), ...(isDrained(c) ? ['weight', '0'] : [])];
}

/** Mixed engines: one backend per engine that only health-checks; the serving servers track it. */
function checkBackend(t: Topology, site: Site, engine: 'nginx' | 'squid'): HaproxySection {
  const lines: HaproxyLine[] = [...checkLines(t, engine), kw('default-server', ...serverCheckWords(site.haproxy))];
  for (const c of cacheHosts(site).filter((c) => c.cacheEngine === engine)) lines.push(kw('server', ident(c.name), cacheAddress(t, site, c)));
  return { head: ['backend', checkBackendName(engine)], comment: `Health checks of the ${engine} caches (no traffic).`, lines };
}

function checkBackendName(engine: 'nginx' | 'squid'): string {
  return ident(`check-${engine}`);
}

function checkLines(t: Topology, engine: 'nginx' | 'squid'): HaproxyLine[] {
  const hc = CACHE_HEALTH[engine];
  return [
    kw('option', 'httpchk'),
    kw('http-check', 'send', 'meth', 'GET', 'uri', hc.path, 'ver', 'HTTP/1.1', 'hdr', 'Host', t.cdn.imageHost),
    kw('http-check', 'expect', 'status', hc.expectStatus),
  ];
}

function serverCheckWords(h: Site['haproxy']): string[] {
  return ['check', 'inter', `${h.checkInterMs}ms`, 'fall', String(h.fall), 'rise', String(h.rise)];
}

/**
 * A refused or timed-out connect to a cache that serves marks it down at once. Without it a dead
 * cache stays on the ring until `fall` checks fail, and bounded loads can send a redispatched
 * retry back to it: haproxy's chash skips the server to avoid only while another one is eligible,
 * and with two caches the survivor is often saturated by the dead one's share. (Servers that
 * `track` a check backend cannot observe: haproxy needs their own checks for it.)
 */
const MARK_DOWN_ON_CONNECT_ERROR = ['observe', 'layer4', 'error-limit', '1', 'on-error', 'mark-down'];

/** The stats address, and loopback for keepalived's check of the local haproxy (endpoints.ts). */
function statsLines(endpoints: Endpoint[]): HaproxyLine[] {
  return [
    ...withPurpose(endpoints, 'haproxy-stats').map((e) => kw('bind', hostPort(e))),
    kw('maxconn', 100),
    kw('no', 'log'),
    kw('monitor-uri', HAPROXY_ALIVE_PATH),
    kw('http-request', 'use-service', 'prometheus-exporter', 'if', '{', 'path', METRICS_PATH, '}'),
    kw('stats', 'enable'),
    kw('stats', 'uri', HAPROXY_STATS_PATH),
    kw('stats', 'refresh', '10s'),
  ];
}

/**
 * A miss costs the cache its origin connect + read time, twice when it goes through the shield
 * first; haproxy must wait that long before it gives up (and retries) on a cache. A derived miss
 * may take longer (lib/model/transforms.ts derivedTimeouts): the original, a worker, the transform.
 */
export function serverTimeoutSec(t: Topology): number {
  const c = t.cdn.cache;
  return Math.max(30, 2 * (c.originConnectTimeoutSec + c.originReadTimeoutSec) + 5, transformsOf(t) ? derivedTimeouts(t).viaShield + 5 : 0);
}

const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'].join(':');
