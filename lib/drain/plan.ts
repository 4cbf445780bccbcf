// What `anycdn drain` and `anycdn undrain` do, as data: per host, the runtime steps (a file the
// health checker or keepalived watches, a command on haproxy's admin socket), and what to wait for
// before the host is safe to stop. Pure: it reads the model and the host's plan (its endpoints)
// only. Printing (print.ts) and carrying it out (apply.ts) both read this one plan, so the printed
// commands are exactly what --apply does.
import { cacheHosts, dnsHosts, fallbackSite, hasRole, isDrained, lbHosts, publishedVip } from '../model/facts.ts';
import type { Host, Site, Topology } from '../model/schema.ts';
import { BACKEND, FRONTEND, LB_DRAIN_KEY, PATHS, renderHost, type Endpoint } from '../render/index.ts';
import type { Token } from '../render/syntax/brace.ts';
import { ident } from '../render/syntax/haproxy.ts';
import { chainSpec, ident as nftIdent, nftCommands, set } from '../render/syntax/nft.ts';
import { ip, num } from '../render/syntax/word.ts';

type Role = Host['roles'][number];

export type Direction = 'drain' | 'undrain';

export type Action =
  | { kind: 'write'; path: string; content: string }
  | { kind: 'remove'; path: string }
  | { kind: 'haproxy'; socket: string; command: string }
  /** An nft script, run as one transaction (`nft '<script>'`). */
  | { kind: 'nft'; script: string }
  /** Waits, at most maxMs, until no request is in flight on a haproxy frontend (`show sess`); never fails. */
  | { kind: 'quiesce'; socket: string; frontend: string; maxMs: number };

export interface Step {
  host: string;
  action: Action;
  /** What the step does, for people. */
  why: string;
}

/** A condition on a host that must hold before the drain is complete (or the undrain). */
export type Wait =
  | { kind: 'checker'; host: string; want: 'drained' | 'announced' }
  | { kind: 'server-idle'; host: string; backend: string; server: string }
  | { kind: 'frontend-idle'; host: string; frontend: string }
  | { kind: 'no-vip'; host: string; address: string };

export interface DrainPlan {
  direction: Direction;
  /** `site` or `site/host`, as given. */
  target: string;
  site: string;
  host?: string;
  summary: string[];
  steps: Step[];
  waits: Wait[];
  /** Said after the waits: what is safe now, and what a drained site still serves. */
  after: string[];
  /** Upper bound for the waits, from the model (the checker's delay, haproxy's timeouts). */
  timeoutSec: number;
}

/** A target that is no name in the model (usage: exit 2), or a drain the model refuses (exit 1). */
export class DrainError extends Error {
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
  }
}

const HAPROXY_SOCKET = PATHS.haproxySocket;
/** Long enough for a keep-alive connection to end (timeout http-keep-alive 5s) and then some. */
const IDLE_TIMEOUT_SEC = 60;
/**
 * How long a draining lb host lets the responses under way on it finish before its VIP moves.
 * Meanwhile new connections to the VIP wait (their SYNs are dropped: clients send them again 1 s
 * later, and 3 s later), so this stays short; a response still under way after it is cut.
 */
export const LB_QUIESCE_MAX_MS = 2000;
/** The nft table a draining lb host holds while it drains (dropping new connections to its VIP). */
export const LB_DRAIN_TABLE = 'anycdn_lb_drain';

/**
 * `role`: only that role of a host (`--role lb`: the VIP moves, its DNS announcements stay). A
 * model drain of an lb host applies its lb role this way and drains its dns role through the
 * health checker's reload (lib/plan/order.ts).
 */
export function planDrain(t: Topology, target: string, direction: Direction, role?: Role): DrainPlan {
  const m = /^([a-z][a-z0-9-]*)(?:\/([a-z][a-z0-9-]*))?$/.exec(target);
  if (!m) throw new DrainError(`${direction}: ${JSON.stringify(target)} is not <site> or <site>/<host>, such as ams or ams/ams-cache1`, true);
  const site = t.sites.find((s) => s.id === m[1]);
  if (!site) throw new DrainError(`${direction}: no site ${m[1]}; the sites are ${t.sites.map((s) => s.id).join(', ')}`, true);
  if (m[2] === undefined) {
    if (role) throw new DrainError(`${direction}: --role ${role} takes a host, <site>/<host>; a site drains all of its dns hosts`, true);
    return sitePlan(t, site, target, direction);
  }
  const host = site.hosts.find((h) => h.name === m[2]);
  if (!host) throw new DrainError(`${direction}: site ${site.id} has no host ${m[2]}; its hosts are ${site.hosts.map((h) => h.name).join(', ')}`, true);
  if (role && !hasRole(host, role)) throw new DrainError(`${direction}: ${host.name} has no ${role} role; its roles are ${host.roles.join(', ')}`, true);
  return hostPlan(t, site, host, target, direction, role ? [role] : host.roles);
}

/**
 * The nft transaction that makes new connections to a draining lb host's VIPs wait: a table of
 * its own (replaced if there, so a second drain is harmless) that drops SYNs to the VIP's ports,
 * as the host's VIP endpoints (http, and https where the site serves it) name them.
 */
function lbDrainNft(endpoints: Endpoint[]): string {
  const vip = endpoints.filter((e) => (e.purpose === 'image-vip-http' || e.purpose === 'image-vip-https') && e.transport === 'tcp');
  const list = [...new Set(vip.map((e) => e.port!))];
  const ports = list.length === 1 ? num(list[0]!) : set(list);
  const addresses = [...new Map(vip.map((e) => [e.address!, e.family] as const))];
  const table = nftIdent(LB_DRAIN_TABLE);
  const input = nftIdent('input');
  return nftCommands([
    ['add', 'table', 'inet', table],
    ['delete', 'table', 'inet', table],
    ['add', 'table', 'inet', table],
    ['add', 'chain', 'inet', table, input, chainSpec({ type: 'filter', hook: 'input', priority: 'filter', offset: -10, policy: 'accept' })],
    ...addresses.map(([address, family]): Token[] => ['add', 'rule', 'inet', table, input, family === 4 ? 'ip' : 'ip6', 'daddr', ip(address), 'tcp', 'dport', ports, 'tcp', 'flags', '&', '(syn', '|', 'ack)', '==', 'syn', 'drop']),
  ]);
}

/** The nft transaction that ends a drain: the table goes (created first, so there is one to delete). */
function lbUndrainNft(): string {
  const table = nftIdent(LB_DRAIN_TABLE);
  return nftCommands([
    ['add', 'table', 'inet', table],
    ['delete', 'table', 'inet', table],
  ]);
}

function sitePlan(t: Topology, site: Site, target: string, direction: Direction): DrainPlan {
  const fallback = fallbackSite(t, site);
  const dns = dnsHosts(site);
  if (direction === 'undrain' && isDrained(site)) {
    throw new DrainError(`undrain: site ${site.id} is drained in the model (state: drained); set state: active in sites/${site.id}.yaml, render and apply`);
  }
  if (direction === 'drain' && !fallback) {
    throw new DrainError(`drain: site ${site.id} has no fallback for its DNS answers; set drain.fallbackSite in sites/${site.id}.yaml to the nearest other site`);
  }
  const steps: Step[] = dns.map((h) =>
    direction === 'drain'
      ? { host: h.name, action: { kind: 'write', path: PATHS.drainRequest, content: 'site\n' }, why: 'the health checker drains the site' }
      : { host: h.name, action: { kind: 'remove', path: PATHS.drainRequest }, why: 'the health checker ends the drain' },
  );
  const delay = site.drain.withdrawAfterSec;
  const ttl = t.cdn.dns.ttlSec;
  return {
    direction,
    target,
    site: site.id,
    summary:
      direction === 'drain'
        ? [
            `drain site ${site.id}: its DNS answers ${t.cdn.imageHost} with ${fallback!.id}'s VIP ${publishedVip(fallback!)}, its anycast routes carry the graceful-shutdown community (65535:0),`,
            `and ${delay} s later (drain.withdrawAfterSec) they are withdrawn; ${site.platform === 'aws' ? 'the checkers\' status endpoints answer 503 at once (Global Accelerator moves traffic)' : 'upstreams move traffic to the next site first'}`,
          ]
        : [`undrain site ${site.id}: its DNS answers with its own VIP again (the rendered zone) and its dns hosts announce again as their health checks say`],
    steps,
    waits: dns.map((h) => ({ kind: 'checker', host: h.name, want: direction === 'drain' ? 'drained' : 'announced' })),
    after:
      direction === 'drain'
        ? [
            `safe to stop the dns service of ${site.id} (${dns.map((h) => h.name).join(', ')}): withdrawn everywhere`,
            `clients may still use ${site.id}'s VIP from cached answers for dns.ttlSec (${ttl} s) and their resolvers' caching: keep its lb and cache hosts serving at least that long`,
          ]
        : [`site ${site.id} announces again`],
    timeoutSec: direction === 'drain' ? delay + 30 : 60,
  };
}

/** `roles`: the roles of the host being drained (all of them, or the one `--role` names). */
function hostPlan(t: Topology, site: Site, host: Host, target: string, direction: Direction, roles: Role[]): DrainPlan {
  if (direction === 'undrain' && isDrained(host)) {
    throw new DrainError(`undrain: ${host.name} is drained in the model (state: drained); set state: active in sites/${site.id}.yaml, render and apply`);
  }
  const plan: DrainPlan = { direction, target, site: site.id, host: host.name, summary: [], steps: [], waits: [], after: [], timeoutSec: IDLE_TIMEOUT_SEC };
  const drain = direction === 'drain';
  if (roles.includes('cache')) {
    const others = cacheHosts(site).filter((c) => c.name !== host.name && !isDrained(c));
    if (drain && others.length === 0) throw new DrainError(`drain: ${host.name} is the last cache of ${site.id} that serves; keep at least one cache serving`);
    const server = ident(host.name);
    plan.summary.push(
      drain
        ? `drain cache ${host.name}: it leaves haproxy's consistent hash on every lb host (state drain: weight 0), so only the URIs it held move; requests in flight on it finish`
        : `undrain cache ${host.name}: it takes its place in haproxy's consistent hash again, and its URIs return to it`,
    );
    for (const lb of lbHosts(site)) {
      plan.steps.push({ host: lb.name, action: { kind: 'haproxy', socket: HAPROXY_SOCKET, command: `set server ${BACKEND}/${server} state ${drain ? 'drain' : 'ready'}` }, why: drain ? 'out of the hash' : 'back in the hash' });
      if (drain) plan.waits.push({ kind: 'server-idle', host: lb.name, backend: BACKEND, server });
    }
    if (drain) plan.after.push(`safe to stop ${host.name}: no request in flight on it on ${lbHosts(site).map((h) => h.name).join(', ')}`);
  }
  if (roles.includes('lb')) {
    const peer = lbHosts(site).find((h) => h.name !== host.name);
    if (drain && (!peer || isDrained(peer))) throw new DrainError(`drain: ${host.name}'s peer ${peer?.name ?? '(none)'} is drained in the model; never drain both lb hosts of a pair`);
    plan.summary.push(
      drain
        ? `drain lb ${host.name}: new connections to the VIP ${site.vip.address} wait and new requests are refused before any byte (clients retry both), the responses under way finish, then keepalived goes to FAULT (drain track file), sends a priority-0 advert, and ${peer!.name} takes the VIP at once`
        : `undrain lb ${host.name}: keepalived leaves FAULT and is a backup again${site.vip.preempt === false ? '' : ` (it takes the VIP back after preempt_delay ${site.vip.preempt.delaySec} s if its priority is higher)`}`,
    );
    if (drain) {
      // The VIP moves by ARP: once the peer holds it, every packet of a connection still open here
      // reaches the peer, which knows no such connection and resets it. A response under way here
      // at that instant is cut mid-body, which no client retries. So the VIP moves only once no
      // response is under way here, and until then nothing new starts here:
      // 1. new connections to the VIP wait: their SYNs are dropped (not refused), so the client's
      //    TCP sends them again 1 s later, when the peer holds the VIP;
      // 2. a request on a connection that is already open is refused before any response byte
      //    (haproxy closes the connection): the one failure every HTTP client retries on a new
      //    connection (RFC 9112 9.3.1), and that new connection waits as in 1;
      // 3. the responses under way finish (at most LB_QUIESCE_MAX_MS);
      // 4. keepalived gives up the VIP (FAULT, a priority-0 advert), and the peer takes it at once.
      // An idle keep-alive connection left open here is reset by the peer at its next request,
      // before any response byte, and retried like 2.
      plan.steps.push(
        { host: host.name, action: { kind: 'nft', script: lbDrainNft(renderHost(t, site, host).endpoints) }, why: 'new connections to the VIP wait: their SYNs are dropped, the client sends them again 1 s later' },
        { host: host.name, action: { kind: 'haproxy', socket: HAPROXY_SOCKET, command: `add map ${PATHS.haproxyDrainMap} ${LB_DRAIN_KEY} 1` }, why: 'a new request is refused before any byte: clients retry it on a new connection' },
        { host: host.name, action: { kind: 'quiesce', socket: HAPROXY_SOCKET, frontend: FRONTEND, maxMs: LB_QUIESCE_MAX_MS }, why: `the responses under way finish (at most ${LB_QUIESCE_MAX_MS / 1000} s)` },
        { host: host.name, action: { kind: 'write', path: PATHS.vrrpDrain, content: '1\n' }, why: 'keepalived gives up the VIP' },
      );
      plan.waits.push({ kind: 'no-vip', host: host.name, address: site.vip.address }, { kind: 'frontend-idle', host: host.name, frontend: FRONTEND });
      plan.after.push(`safe to stop ${host.name}'s haproxy and keepalived: the VIP is on ${peer!.name} and no request is in flight on ${host.name}`);
    } else {
      // The flags first: once keepalived may hold the VIP again, this host must serve it.
      plan.steps.push(
        { host: host.name, action: { kind: 'nft', script: lbUndrainNft() }, why: 'new connections to the VIP are accepted again' },
        { host: host.name, action: { kind: 'haproxy', socket: HAPROXY_SOCKET, command: `clear map ${PATHS.haproxyDrainMap}` }, why: 'requests are served again' },
        { host: host.name, action: { kind: 'write', path: PATHS.vrrpDrain, content: '0\n' }, why: 'keepalived may hold the VIP again' },
      );
    }
  }
  if (roles.includes('dns')) {
    const others = dnsHosts(site).filter((h) => h.name !== host.name && !isDrained(h));
    if (drain && others.length === 0) throw new DrainError(`drain: ${host.name} is the last dns host of ${site.id} that announces; drain the site instead (anycdn drain ${site.id})`);
    plan.summary.push(
      drain
        ? `drain dns ${host.name}: its anycast routes carry the graceful-shutdown community, and ${site.drain.withdrawAfterSec} s later it withdraws them; ${others.map((h) => h.name).join(', ')} ${others.length === 1 ? 'keeps' : 'keep'} announcing ${site.id}`
        : `undrain dns ${host.name}: it announces again as its health checks say`,
    );
    plan.steps.push(
      drain
        ? { host: host.name, action: { kind: 'write', path: PATHS.drainRequest, content: 'host\n' }, why: 'the health checker drains this host' }
        : { host: host.name, action: { kind: 'remove', path: PATHS.drainRequest }, why: 'the health checker ends the drain' },
    );
    plan.waits.push({ kind: 'checker', host: host.name, want: drain ? 'drained' : 'announced' });
    if (drain) plan.after.push(`safe to stop ${host.name}'s bird, Knot and health checker: withdrawn`);
    plan.timeoutSec = Math.max(plan.timeoutSec, drain ? site.drain.withdrawAfterSec + 30 : 60);
  }
  return plan;
}
