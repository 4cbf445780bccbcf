// The anycast prefixes: each parses, is of its family and routable (IPv4 at most /24, IPv6 at most
// /48, unless anycast.allowLongPrefixes), no wider than one operator's block (IPv4 /16, IPv6 /32,
// unless anycast.allowShortPrefixes), in public space (private only with internal: true), holds
// its service address (never the network address, which stands for the announcement on lo), and
// overlaps no site subnet and no other anycast prefix. Every in-zone name server maps to exactly
// one prefix, and every name server's prefix is announced by at least two BGP sites (by every one
// when there are fewer).
import ipaddr from 'ipaddr.js';
import { announcesBgp, announcedGroups } from '../facts.ts';
import { show } from '../errors.ts';
import { spaceOf } from '../address-space.ts';
import { contains, overlaps, parsePrefix, ROUTABLE_LENGTH, SHORTEST_LENGTH, type Prefix } from '../net.ts';
import { inZone } from './dns.ts';
import type { Rule } from './types.ts';


export const anycast: Rule = (t, report) => {
  const { prefixes, allowLongPrefixes, allowShortPrefixes } = t.cdn.anycast;
  const at = (i: number, ...rest: (string | number)[]) => ['anycast', 'prefixes', i, ...rest];
  const subnets = t.sites.flatMap((s) =>
    Object.entries(s.subnets).flatMap(([name, text]) => {
      const p = parsePrefix(text);
      return typeof p === 'string' ? [] : [{ site: s.id, name, prefix: p }];
    }),
  );
  const seen: { name: string; prefix: Prefix }[] = [];
  const names = new Set<string>();
  prefixes.forEach((entry, i) => {
    if (names.has(entry.name)) report(null, at(i, 'name'), `anycast.prefixes[${i}].name: ${entry.name} is used twice; give each prefix its own name`);
    names.add(entry.name);
    for (const family of [4, 6] as const) {
      const key = family === 4 ? 'ipv4' : 'ipv6';
      const f = entry[key];
      if (!f) continue;
      const field = `anycast.prefixes[${i}].${key}`;
      const p = parsePrefix(f.prefix);
      if (typeof p === 'string') {
        report(null, at(i, key, 'prefix'), `${field}.prefix: ${show(f.prefix)} ${p}`);
        continue;
      }
      if (p.family !== family) {
        report(null, at(i, key, 'prefix'), `${field}.prefix: ${f.prefix} is not an IPv${family} prefix; use one such as ${family === 4 ? '192.0.2.0/24' : '2001:db8:53::/48'}`);
        continue;
      }
      const longest = ROUTABLE_LENGTH[family];
      if (p.length > longest && !allowLongPrefixes) {
        report(
          null,
          at(i, key, 'prefix'),
          `${field}.prefix: ${f.prefix} is longer than /${longest}, which upstreams drop (RFC 7454); announce a covering /${longest} or shorter, or set anycast.allowLongPrefixes: true for a lab or private peering`,
        );
      }
      const shortest = SHORTEST_LENGTH[family];
      if (p.length < shortest && !allowShortPrefixes) {
        report(
          null,
          at(i, key, 'prefix'),
          `${field}.prefix: ${f.prefix} is shorter than /${shortest}: announced from every site, it takes in other networks' addresses unless you hold all of it; announce the prefix you hold, or set anycast.allowShortPrefixes: true if you hold this one`,
        );
      }
      const space = spaceOf(p);
      if (space?.kind === 'special') {
        report(null, at(i, key, 'prefix'), `${field}.prefix: ${f.prefix} ${space.within ? 'is in' : 'takes in'} ${space.range}, ${space.name}, which no network routes to a service; use a public prefix you hold`);
      } else if (space?.kind === 'private' && !t.cdn.internal) {
        report(
          null,
          at(i, key, 'prefix'),
          `${field}.prefix: ${f.prefix} ${space.within ? 'is in' : 'takes in'} ${space.range}, ${space.name}, which the internet does not route; use a public prefix you hold, or set internal: true in cdn.yaml for a CDN reached only inside your own network`,
        );
      }
      if (!contains(p, f.address)) {
        report(null, at(i, key, 'address'), `${field}.address: ${f.address} is outside ${f.prefix}; pick the service address inside its prefix`);
      } else if (p.address.toString() === canonicalText(f.address, family)) {
        report(null, at(i, key, 'address'), `${field}.address: ${f.address} is the network address of ${f.prefix}, which stands for the announcement on lo; pick another address inside it, such as ${example(p)}`);
      }
      for (const s of subnets) {
        if (overlaps(p, s.prefix)) report(null, at(i, key, 'prefix'), `${field}.prefix: ${f.prefix} overlaps subnets.${s.name} of site ${s.site}; the anycast prefixes must not be on any site segment`);
      }
      for (const other of seen) {
        if (overlaps(p, other.prefix)) report(null, at(i, key, 'prefix'), `${field}.prefix: ${f.prefix} overlaps ${other.prefix.text} of anycast prefix ${other.name}; each prefix is announced and withdrawn on its own, so they must not overlap`);
      }
      seen.push({ name: entry.name, prefix: p });
    }
  });

  // Name servers: each listed one is a name server, each in-zone one has exactly one prefix.
  const { nameservers, zone } = t.cdn.dns;
  const mapped = new Map<string, string>();
  prefixes.forEach((entry, i) => {
    entry.nameservers.forEach((ns, j) => {
      const where = at(i, 'nameservers', j);
      if (!nameservers.includes(ns)) {
        report(null, where, `anycast.prefixes[${i}].nameservers[${j}]: ${ns} is not in dns.nameservers; add it there or remove it here`);
      } else if (mapped.has(ns)) {
        report(null, where, `anycast.prefixes[${i}].nameservers[${j}]: ${ns} is already reached at anycast prefix ${mapped.get(ns)}; a name server has one glue address per family, list it once`);
      } else mapped.set(ns, entry.name);
    });
  });
  const only = prefixes.length === 1 ? prefixes[0] : undefined;
  nameservers.forEach((ns, i) => {
    if (inZone(ns, zone) && ns !== zone && !mapped.has(ns) && !only) {
      report(null, ['dns', 'nameservers', i], `dns.nameservers[${i}]: ${ns} is in the zone and needs glue; list it under the nameservers of one of anycast.prefixes (${prefixes.map((p) => p.name).join(', ')})`);
    }
  });

  // Sites: the names they announce exist; every name server stays announced by two sites.
  const known = new Set(prefixes.map((p) => p.name));
  for (const site of t.sites) {
    const dup = new Set<string>();
    site.bgp.announce?.forEach((name, j) => {
      const path = ['bgp', 'announce', j];
      if (!known.has(name)) report(site.id, path, `bgp.announce[${j}]: ${name} is not an anycast prefix; use one of ${[...known].join(', ')}`);
      else if (dup.has(name)) report(site.id, path, `bgp.announce[${j}]: ${name} is listed twice; remove one`);
      dup.add(name);
    });
    if (site.bgp.announce && !announcesBgp(site)) {
      report(site.id, ['bgp', 'announce'], `bgp.announce: site ${site.id} has no bgp.peers to announce through; remove bgp.announce or add peers`);
    }
  }
  const bgpSites = t.sites.filter(announcesBgp);
  const needed = Math.min(2, bgpSites.length);
  prefixes.forEach((entry, i) => {
    const servers = only ? nameservers.filter((ns) => inZone(ns, zone)) : entry.nameservers;
    if (servers.length === 0) return;
    const by = bgpSites.filter((s) => announcedGroups(t, s).some((g) => g.name === entry.name)).map((s) => s.id);
    if (by.length >= needed) return;
    const others = bgpSites.map((s) => s.id).filter((id) => !by.includes(id));
    report(
      null,
      at(i, 'name'),
      `anycast.prefixes[${i}].name: ${entry.name} (name server ${servers.join(', ')}) is announced by ${by.length} site(s)${by.length ? ` (${by.join(', ')})` : ''}; a name server needs at least ${needed}, add ${entry.name} to bgp.announce of ${others.join(' or ')}`,
    );
  });
};

function canonicalText(address: string, family: 4 | 6): string {
  return family === 4 ? address : ipaddr.parse(address).toString();
}

/** An address inside `p` other than its network address: the 53rd (or the last of a tiny prefix). */
function example(p: Prefix): string {
  const bytes = p.address.toByteArray();
  const room = (p.family === 4 ? 32 : 128) - p.length;
  // 53 reads as DNS in both spellings: the 53rd IPv4 address, ::53 in IPv6.
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! + (room >= 7 ? (p.family === 4 ? 53 : 0x53) : 2 ** room - 1);
  return ipaddr.fromByteArray(bytes).toString();
}
