// The Go exporters (node, bird, nginx, Squid) have no allow list of their own, unlike haproxy and
// the health checker, which refuse sources outside `monitoring.scrapeFrom` themselves. So every
// host with an exporter loads one small nftables table of its own that drops their ports from any
// other source. A table of its own: it sits beside whatever firewall the operator runs (a drop in
// any base chain is final; this chain accepts everything else), and `nft -f` replaces it in one
// transaction (the `table` + `delete table` lead-in makes a reload idempotent). aws sites get the
// same table under their security groups: the scrape rule is then enforced twice.
import { parsePrefix, type Prefix } from '../model/net.ts';
import { fileText, headerLines } from '../render/header.ts';
import type { Renderer } from '../render/types.ts';
import type { UnitSpec } from '../render/unit-spec.ts';
import { monitoringUnits } from '../render/units-monitoring.ts';
import { EXPORTER_PORTS, FIREWALL } from './ports.ts';

/** The Debian exporter units, by the port each listens on (units-monitoring.ts renders them). */
const EXPORTER_UNITS: Record<string, number> = {
  'prometheus-node-exporter': EXPORTER_PORTS.node,
  'prometheus-bird-exporter': EXPORTER_PORTS.bird,
  'prometheus-nginx-exporter': EXPORTER_PORTS.nginx,
  'prometheus-squid-exporter': EXPORTER_PORTS.squid,
};

/** The ports of the exporter units among `units`, ascending; [] when the host runs none. */
export function exporterPorts(units: UnitSpec[]): number[] {
  return units.flatMap((u) => EXPORTER_UNITS[u.name] ?? []).sort((a, b) => a - b);
}

/** The table file for a host that runs exporters; none without monitoring or exporters. */
export const renderExporterFirewall: Renderer = (t, site, host) => {
  const m = t.cdn.monitoring;
  const ports = exporterPorts(monitoringUnits(t, site, host));
  if (!m || ports.length === 0) return [];
  const prefixes = m.scrapeFrom.map(parsePrefix).filter((p): p is Prefix => typeof p !== 'string');
  const portSet = `{ ${ports.join(', ')} }`;
  const families = ([4, 6] as const).flatMap((family) => {
    const mine = prefixes.filter((p) => p.family === family).map((p) => p.text);
    if (mine.length === 0) return [];
    const [set, type, match] = family === 4 ? ['scrape4', 'ipv4_addr', 'ip saddr'] : ['scrape6', 'ipv6_addr', 'ip6 saddr'];
    return [{ set, lines: [`\tset ${set} {`, `\t\ttype ${type}`, '\t\tflags interval', `\t\telements = { ${mine.join(', ')} }`, '\t}'], rule: `\t\ttcp dport ${portSet} ${match} @${set} accept` }];
  });
  return [
    {
      site: site.id,
      host: host.name,
      path: FIREWALL.file,
      content: fileText([
        `#!${FIREWALL.nft} -f`,
        ...headerLines(t, site.id, '#'),
        `# Loaded by ${FIREWALL.unit}.service: only monitoring.scrapeFrom reaches the exporters on ports ${ports.join(', ')}.`,
        `table inet ${FIREWALL.table}`,
        `delete table inet ${FIREWALL.table}`,
        `table inet ${FIREWALL.table} {`,
        ...families.flatMap((f) => f.lines),
        '\tchain input {',
        '\t\ttype filter hook input priority filter; policy accept;',
        ...families.map((f) => f.rule),
        `\t\ttcp dport ${portSet} drop`,
        '\t}',
        '}',
      ]),
      mode: 0o644,
      check: 'nft',
    },
  ];
};
