// bird2 on dns hosts: one eBGP session per upstream peer, import none, and an export filter that
// lets out only the covering anycast prefixes this site announces, and only while the health
// checker has put them on lo (protocol direct; each prefix sits there as its network address). The
// health checker writes the announce file bird includes: ANYCAST_DRAIN tags the routes with the
// graceful-shutdown community (RFC 8326) while a drain runs, before the checker withdraws;
// ANYCAST_DEPREFER adds prepends and the same community on a sick image path. Every per-peer
// export filter honours both, for every prefix it lets out.
import { announcedGroups, bfdTimers, bgpMultihop, deprefers, originAsn, runsBird } from '../model/facts.ts';
import { familyOf } from '../model/net.ts';
import type { Host, Peer, Site, Topology } from '../model/schema.ts';
import { fileText, headerLines } from './header.ts';
import { birdSecretFile, PATHS } from './paths.ts';
import { blank, block, code, stmt, type Node } from './syntax/brace.ts';
import { bfdTimerStmts, emitBird, ident, line, prefixSet, quote } from './syntax/bird.ts';
import { ip } from './syntax/word.ts';
import type { RenderedFile, Renderer } from './types.ts';

const ANYCAST_PROTO = 'anycast_lo';
const GRACEFUL_SHUTDOWN = '(65535, 0)';

export const renderBird: Renderer = (t, site, host) => {
  if (!runsBird(site, host)) return [];
  const conf: RenderedFile = {
    site: site.id,
    host: host.name,
    path: PATHS.birdConf,
    content: fileText([...headerLines(t, site.id, '#'), '', ...emitBird(birdTree(t, site, host)), ...rawSnippet(site)]),
    mode: 0o644,
    check: 'bird',
  };
  return [conf];
};

/** The covering prefixes a site announces, per family in use (IPv4 first). */
function announcedFamilies(t: Topology, site: Site): { family: 4 | 6; prefixes: string[] }[] {
  const all = announcedGroups(t, site).flatMap((g) => g.families);
  return ([4, 6] as const).map((family) => ({ family, prefixes: all.filter((f) => f.family === family).map((f) => f.prefix) })).filter((f) => f.prefixes.length > 0);
}

function birdTree(t: Topology, site: Site, host: Host): Node[] {
  const families = announcedFamilies(t, site);
  const nodes: Node[] = [
    stmt('log', 'stderr', 'all'),
    stmt('router', 'id', ip(host.address)),
    blank,
    ...families.map((f) => stmt('define', setName(f.family), '=', prefixSet(f.prefixes))),
    {
      kind: 'comment',
      text: `Written by anycdn-healthcheck: ANYCAST_DRAIN 1 while a drain runs${deprefers(t) ? ', ANYCAST_DEPREFER 1 while DNS answers but the image path fails' : ''}.`,
    },
    stmt('include', quote(PATHS.birdAnnounce)),
    blank,
    block(['protocol', 'device'], [stmt('scan', 'time', 10)]),
    blank,
    { kind: 'comment', text: 'The health checker puts each covering prefix on lo while its DNS and the image VIP answer.' },
    block(['protocol', 'direct', ANYCAST_PROTO], [...families.map((f) => stmt(`ipv${f.family}`)), stmt('interface', quote('lo'))]),
  ];
  if (site.bgp.peers.some((p) => bfdTimers(p))) {
    // The sessions' timers are in each BGP protocol's bfd block (bird >= 2.0.8): every peer has
    // its own, as transits agree them per session. This instance only runs them.
    nodes.push(blank, { kind: 'comment', text: 'BFD sessions of the BGP peers below; each sets its own timers.' }, block(['protocol', 'bfd'], []));
  }
  for (const peer of site.bgp.peers) {
    if (families.some((f) => f.family === familyOf(peer.address))) nodes.push(blank, exportFilter(t, site, peer));
  }
  nodes.push(
    blank,
    block(['template', 'bgp', 'upstream'], [
      stmt('local', 'as', originAsn(t)),
      stmt('hold', 'time', site.bgp.holdTimeSec),
      stmt('keepalive', 'time', site.bgp.keepaliveTimeSec),
      stmt('connect', 'delay', 'time', 1),
      stmt('connect', 'retry', 'time', 5),
      stmt('error', 'wait', 'time', '1,', 30),
    ]),
  );
  for (const peer of site.bgp.peers) nodes.push(blank, peerBlock(t, site, host, peer));
  return nodes;
}

/**
 * The export filter of one session: the announced covering prefixes of its family, and only while
 * they sit on lo; drained or depreferred on demand; then this site's and this peer's prepends and
 * this peer's communities.
 */
function exportFilter(t: Topology, site: Site, peer: Peer): Node {
  const family = familyOf(peer.address);
  const prepends = site.bgp.prepend + peer.prepend;
  const communities = peer.communities.map((c) => c.split(':').map(Number));
  return block(['filter', filterName(peer)], [
    code(
      line`if net ~ ${setName(family)} && proto = ${quote(ANYCAST_PROTO)} then {`,
      `\tif ANYCAST_DRAIN = 1 then bgp_community.add(${GRACEFUL_SHUTDOWN});`,
      ...(deprefers(t)
        ? [
            '\tif ANYCAST_DEPREFER = 1 then {',
            ...Array.from({ length: t.cdn.healthcheck.depreferPrepend }, () => line`\t\tbgp_path.prepend(${originAsn(t)});`),
            `\t\tbgp_community.add(${GRACEFUL_SHUTDOWN});`,
            '\t}',
          ]
        : []),
      ...Array.from({ length: prepends }, () => line`\tbgp_path.prepend(${originAsn(t)});`),
      ...communities.map(([a, b, c]) =>
        c === undefined ? line`\tbgp_community.add((${a!}, ${b!}));` : line`\tbgp_large_community.add((${a!}, ${b!}, ${c}));`,
      ),
      '\taccept;',
      '}',
      'reject;',
    ),
  ]);
}

function peerBlock(t: Topology, site: Site, host: Host, peer: Peer): Node {
  const family = familyOf(peer.address);
  const local = family === 4 ? host.address : host.address6!;
  const exported = announcedFamilies(t, site).some((f) => f.family === family);
  const body: Node[] = [
    stmt('description', quote(`${peer.name} AS${peer.asn}`)),
    stmt('local', ip(local), 'as', originAsn(t)),
    stmt('neighbor', ip(peer.address), 'as', peer.asn),
  ];
  const multihop = bgpMultihop(peer);
  if (multihop !== undefined) body.push(stmt('multihop', multihop));
  if (peer.ttlSecurity) body.push(stmt('ttl', 'security', 'on'));
  const bfd = bfdTimers(peer);
  // Per-session timers; a multihop session's BFD runs RFC 5883 multihop (UDP 4784).
  if (bfd) body.push(block(['bfd'], bfdTimerStmts(bfd), ';'));
  if (peer.passwordRef) body.push(stmt('include', quote(birdSecretFile(peer.name))));
  body.push(
    block([`ipv${family}`], [stmt('import', 'none'), exported ? stmt('export', 'filter', filterName(peer)) : stmt('export', 'none')], ';'),
  );
  return block(['protocol', 'bgp', ident('bgp', peer.name), 'from', 'upstream'], body);
}

function filterName(peer: Peer) {
  return ident('export', peer.name);
}

function setName(family: 4 | 6): string {
  return `ANYCAST${family}`;
}

function rawSnippet(site: Site): string[] {
  if (!site.raw.bird) return [];
  return ['', `# raw.bird from sites/${site.id}.yaml`, ...site.raw.bird.replace(/\n+$/, '').split('\n')];
}
