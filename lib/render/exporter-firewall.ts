// The Go exporters (node, bird, nginx, Squid) have no allow list of their own, unlike haproxy and
// the health checker, which refuse sources outside `monitoring.scrapeFrom` themselves: their
// endpoints say so (reach scrape, enforcedBy firewall). So every host with such an endpoint loads
// one small nftables table of its own that drops their ports from any other source. A table of
// its own: it sits beside whatever firewall the operator runs (a drop in any base chain is final;
// this chain accepts everything else), and `nft -f` replaces it in one transaction (the `table` +
// `delete table` lead-in makes a reload idempotent). aws sites get the same table under their
// security groups: the scrape rule is then enforced twice.
import { parsePrefix, type Prefix } from '../model/net.ts';
import { hostEndpoints } from './endpoints.ts';
import { block, stmt } from './syntax/brace.ts';
import { emitNft, hook, ident, set, setRef } from './syntax/nft.ts';
import { prefix } from './syntax/word.ts';
import { fileText, headerLines } from './header.ts';
import type { Renderer } from './types.ts';
import { FIREWALL } from './units-monitoring.ts';
import { unitSpecs } from './units.ts';

/** The table file for a host whose endpoints this table guards (the Go exporters'); none without. */
export const renderExporterFirewall: Renderer = (t, site, host) => {
  const guarded = hostEndpoints(t, site, host, unitSpecs(t, site, host)).flatMap((e) => (e.reach.from === 'scrape' && e.reach.enforcedBy === 'firewall' ? [{ port: e.port!, from: e.reach.prefixes }] : []));
  if (guarded.length === 0) return [];
  const ports = [...new Set(guarded.map((e) => e.port))].sort((a, b) => a - b);
  // Every scrape endpoint admits monitoring.scrapeFrom: one set of sources for all the ports.
  const prefixes = guarded[0]!.from.map(parsePrefix).filter((p): p is Prefix => typeof p !== 'string');
  const portSet = set(ports);
  const families = ([4, 6] as const).flatMap((family) => {
    const mine = prefixes.filter((p) => p.family === family).map((p) => prefix(p.text));
    if (mine.length === 0) return [];
    const [name, type, match] = family === 4 ? ['scrape4', 'ipv4_addr', 'ip'] : ['scrape6', 'ipv6_addr', 'ip6'];
    return [{ set: block(['set', ident(name)], [stmt('type', type), stmt('flags', 'interval'), stmt('elements', '=', set(mine))]), rule: stmt('tcp', 'dport', portSet, match, 'saddr', setRef(name), 'accept') }];
  });
  const table = ident(FIREWALL.table);
  return [
    {
      site: site.id,
      host: host.name,
      path: FIREWALL.file,
      content: fileText([
        `#!${FIREWALL.nft} -f`,
        ...headerLines(t, site.id, '#'),
        ...emitNft([
          { kind: 'comment', text: `Loaded by ${FIREWALL.unit}.service: only monitoring.scrapeFrom reaches the exporters on ports ${ports.join(', ')}.` },
          stmt('table', 'inet', table),
          stmt('delete', 'table', 'inet', table),
          block(['table', 'inet', table], [
            ...families.map((f) => f.set),
            block(['chain', ident('input')], [hook({ type: 'filter', hook: 'input', priority: 'filter', policy: 'accept' }), ...families.map((f) => f.rule), stmt('tcp', 'dport', portSet, 'drop')]),
          ]),
        ]),
      ]),
      mode: 0o644,
      check: 'nft',
    },
  ];
};
