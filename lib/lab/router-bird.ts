// bird for the lab's upstream routers: the other side of every session the model describes, plus
// eBGP with the other routers over the core. Built with the product's bird emitter and ident().
// Like an upstream that honours RFC 8326, every router gives a route that carries the
// graceful-shutdown community (65535:0) local preference 0, so a draining site loses its traffic
// to the next site before it withdraws.
import { familyOf } from '../model/net.ts';
import type { Site, Topology } from '../model/schema.ts';
import { anycastFamilies, bfdTimers, bgpMultihop, hasRole, originAsn } from '../model/facts.ts';
import { blank, block, code, stmt, type Node } from '../render/syntax/brace.ts';
import { bfdTimerStmts, emitBird, ident, line, passwordStmt, prefixSet, quote } from '../render/syntax/bird.ts';
import { prefix } from '../render/syntax/word.ts';
import { roas, type Roa } from '../render/index.ts';
import type { LabPlan, LabRouter } from './plan.ts';

/** The router's interfaces on the site's segments are site, site1, ... (plan.ts). */
const SITE_IF = 'site';

/** RFC 8326 on receipt: a route tagged for graceful shutdown is the least preferred. */
const GSHUT_LOCAL_PREF = 'if (65535, 0) ~ bgp_community then bgp_local_pref = 0;';

/** The password the lab hands both ends of a session whose model has a passwordRef. */
export function labPassword(site: string, peer: string): string {
  return `lab-${site}-${peer}`;
}

/**
 * A router's bird.conf. It validates route origins as an RPKI-minded upstream does: against
 * `roaList` (the model's own ROAs, out/routing/, unless a scenario takes one away), every
 * announcement from a site that is not ROA-valid is dropped.
 */
export function routerBirdConf(t: Topology, plan: LabPlan, router: LabRouter, roaList: Roa[] = roas(t)): string {
  const site = t.sites.find((s) => s.id === router.site)!;
  const all = anycastFamilies(t);
  const families = ([4, 6] as const).map((family) => ({ family, prefixes: all.filter((f) => f.family === family).map((f) => f.prefix) })).filter((f) => f.prefixes.length > 0);
  const nodes: Node[] = [
    stmt('log', 'stderr', 'all'),
    stmt('router', 'id', router.core4),
    ...families.map((f) => stmt('define', `ANYCAST${f.family}`, '=', prefixSet(f.prefixes))),
    block(['protocol', 'device'], [stmt('scan', 'time', 10)]),
    block(['protocol', 'direct'], [stmt('ipv4'), stmt('ipv6'), stmt('interface', quote(`${SITE_IF}*`), ',', quote('client'), ',', quote('core'))]),
    block(['protocol', 'kernel', 'kernel4'], [block(['ipv4'], [stmt('import', 'none'), stmt('export', 'all')], ';'), stmt('merge', 'paths', 'on')]),
    block(['protocol', 'kernel', 'kernel6'], [block(['ipv6'], [stmt('import', 'none'), stmt('export', 'all')], ';'), stmt('merge', 'paths', 'on')]),
  ];
  for (const family of [4, 6] as const) {
    const list = roaList.filter((r) => r.family === family);
    nodes.push(
      stmt(`roa${family}`, 'table', `roas${family}`),
      block(['protocol', 'static', `roa_static${family}`], [
        block([`roa${family}`], [stmt('table', `roas${family}`)], ';'),
        ...list.map((r) => stmt('route', prefix(r.prefix), 'max', r.maxLength, 'as', r.asn)),
      ]),
    );
  }
  // The BFD sessions of the site sessions below, each with the timers the model gives it.
  if (site.bgp.peers.some((p) => bfdTimers(p))) nodes.push(block(['protocol', 'bfd'], []));
  for (const f of families) {
    for (const asn of [...new Set(site.bgp.peers.map((p) => p.asn))]) nodes.push(fromSite(f.family, asn));
  }
  for (const f of families) {
    // Like any ROV-enforcing network: an anycast route from another router is dropped if invalid.
    nodes.push(block(['filter', `from_core${f.family}`], [code(`if net ~ ANYCAST${f.family} && roa_check(roas${f.family}, net, bgp_path.last) = ROA_INVALID then reject;`, GSHUT_LOCAL_PREF, 'accept;')]));
  }
  nodes.push(...siteSessions(t, site), ...coreSessions(plan, router));
  return `${emitBird(nodes).join('\n')}\n`;
}

function siteSessions(t: Topology, site: Site): Node[] {
  const out: Node[] = [];
  const origin = originAsn(t);
  for (const peer of site.bgp.peers) {
    const family = familyOf(peer.address);
    for (const h of site.hosts.filter((x) => hasRole(x, 'dns'))) {
      const neighbor = family === 4 ? h.address : h.address6;
      if (!neighbor) continue;
      const body: Node[] = [
        stmt('local', peer.address, 'as', peer.asn),
        stmt('neighbor', neighbor, 'as', origin),
        stmt('hold', 'time', site.bgp.holdTimeSec),
        stmt('keepalive', 'time', site.bgp.keepaliveTimeSec),
        stmt('connect', 'delay', 'time', 1),
        stmt('error', 'wait', 'time', '1,', 5),
      ];
      const multihop = bgpMultihop(peer);
      if (multihop !== undefined) body.push(stmt('multihop', multihop));
      // GTSM needs both ends: the host sends with TTL 255 and expects 255 back.
      if (peer.ttlSecurity) body.push(stmt('ttl', 'security', 'on'));
      const bfd = bfdTimers(peer);
      if (bfd) body.push(block(['bfd'], bfdTimerStmts(bfd), ';'));
      if (peer.passwordRef) body.push(passwordStmt(labPassword(site.id, peer.name)));
      // keep filtered: a route dropped as RPKI-invalid stays visible (birdc show route filtered).
      body.push(block([`ipv${family}`], [stmt('import', 'filter', fromSiteName(family, peer.asn)), stmt('import', 'keep', 'filtered', 'on'), stmt('export', 'none')], ';'));
      out.push(blank, block(['protocol', 'bgp', ident('site', `${h.name}-${peer.name}`)], body));
    }
  }
  return out;
}

function coreSessions(plan: LabPlan, me: LabRouter): Node[] {
  const out: Node[] = [];
  for (const other of plan.routers.filter((r) => r.site !== me.site)) {
    for (const family of [4, 6] as const) {
      out.push(
        blank,
        block(['protocol', 'bgp', ident(`core${family}`, other.site)], [
          stmt('local', family === 4 ? me.core4 : me.core6, 'as', me.coreAsn),
          stmt('neighbor', family === 4 ? other.core4 : other.core6, 'as', other.coreAsn),
          stmt('connect', 'delay', 'time', 1),
          stmt('error', 'wait', 'time', '1,', 5),
          block([`ipv${family}`], [stmt('import', 'filter', `from_core${family}`), stmt('import', 'keep', 'filtered', 'on'), stmt('export', 'all')], ';'),
        ]),
      );
    }
  }
  return out;
}

/** Private-use ASNs (RFC 6996) as a bird set: what the router strips, as real upstreams do. */
const PRIVATE_ASNS = '[64512..65534, 4200000000..4294967294]';

function fromSiteName(family: 4 | 6, asn: number): string {
  return `from_site${family}_as${asn}`;
}

/**
 * A site session's import filter at a router of AS `asn`: strip private ASNs from the path (an
 * upstream that originates for its customer does, and the route then has no origin but the
 * router's own), then accept only an anycast prefix that is ROA-valid for its origin.
 */
function fromSite(family: 4 | 6, asn: number): Node {
  return block(['filter', fromSiteName(family, asn)], [
    code(
      `if ! (net ~ ANYCAST${family}) then reject;`,
      `bgp_path.delete(${PRIVATE_ASNS});`,
      'if bgp_path.len = 0 then {',
      `\tif roa_check(roas${family}, net, ${asn}) != ROA_VALID then reject;`,
      '} else {',
      `\tif roa_check(roas${family}, net, bgp_path.last) != ROA_VALID then reject;`,
      '}',
      GSHUT_LOCAL_PREF,
      'accept;',
    ),
  ]);
}
