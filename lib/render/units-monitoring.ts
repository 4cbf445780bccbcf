// Units of the Debian exporters, when the model has `monitoring`. Each is named as Debian's own
// unit, so the full unit under /etc/systemd/system replaces it: Debian's listens on every address
// (the VIP and the anycast address included), ours only on the host's own address. haproxy and
// the health checker serve their metrics themselves (haproxy's prometheus-exporter service; the
// checker's /metrics), so they have no exporter unit: Debian's prometheus-haproxy-exporter is the
// retired upstream haproxy_exporter, which scraped the CSV stats haproxy now exports natively.
import type { Host, Site, Topology } from '../model/schema.ts';
import { hasRole, runsBird } from '../model/facts.ts';
import { endpointOf, endpointUrl, hostPort, type Purpose } from './endpoints.ts';
import { PATHS } from './paths.ts';
import { exec, MAINPID, type Exec, type UnitValue } from './syntax/unit.ts';
import type { UnitSpec } from './unit-spec.ts';

/** The nftables table that admits only monitoring.scrapeFrom to the Go exporters (exporter-firewall.ts), and its unit. */
export const FIREWALL = {
  unit: 'anycdn-exporter-firewall',
  file: '/usr/local/etc/anycdn/exporters.nft',
  table: 'anycdn_exporters',
  nft: '/usr/sbin/nft',
} as const;

/** Where an exporter unit listens: its endpoint's address and port. */
const listen = (t: Topology, site: Site, host: Host, unit: string, purpose: Purpose) => hostPort(endpointOf(t, site, host, unit, purpose));

/** As Debian's units: restart a crashed exporter, never take the daemon it watches with it. */
const RESTART: [string, UnitValue][] = [
  ['Restart', 'on-failure'],
  ['RestartSec', '2'],
];

export function monitoringUnits(t: Topology, site: Site, host: Host): UnitSpec[] {
  if (!t.cdn.monitoring) return [];
  // Every exporter starts after the table that keeps other sources off its port is loaded.
  const exporters = exporterUnits(t, site, host).map((u) => ({ ...u, after: [`${FIREWALL.unit}.service`, ...(u.after ?? [])] }));
  return [firewallUnit(), ...exporters];
}

/** Loads the exporters' nftables table (exporter-firewall.ts) before they start; stopping it removes the table. */
function firewallUnit(): UnitSpec {
  const ignoringFailure = (e: Exec): Exec => ({ ...e, ignoreFailure: true });
  return {
    name: FIREWALL.unit,
    description: "anycdn: admit only monitoring.scrapeFrom to the Prometheus exporters' ports (nftables)",
    after: ['network-pre.target'],
    service: [
      ['Type', 'oneshot'],
      ['RemainAfterExit', 'yes'],
      ['ExecStart', exec(FIREWALL.nft, '-f', FIREWALL.file)],
      // A table already gone is no failure of the stop.
      ['ExecStop', ignoringFailure(exec(FIREWALL.nft, 'delete', 'table', 'inet', FIREWALL.table))],
    ],
  };
}

function exporterUnits(t: Topology, site: Site, host: Host): UnitSpec[] {
  const specs: UnitSpec[] = [
    {
      name: 'prometheus-node-exporter',
      description: "Prometheus node exporter on the host's own address (anycdn)",
      after: ['network-online.target'],
      service: [
        ['Type', 'simple'],
        ['User', 'prometheus'],
        ['ExecStart', exec('/usr/bin/prometheus-node-exporter', `--web.listen-address=${listen(t, site, host, 'prometheus-node-exporter', 'exporter-node')}`, `--collector.textfile.directory=${PATHS.nodeExporterTextfiles}`)],
        ...RESTART,
      ],
    },
  ];
  if (runsBird(site, host)) {
    specs.push({
      name: 'prometheus-bird-exporter',
      description: "Prometheus bird exporter on the host's own address (anycdn)",
      after: ['bird.service'],
      service: [
        ['Type', 'simple'],
        // bird runs as root and its socket is root's (0660): the exporter keeps root's uid to
        // reach it, with no capabilities at all.
        ['CapabilityBoundingSet', ''],
        ['NoNewPrivileges', 'yes'],
        ['ExecStart', exec('/usr/bin/prometheus-bird-exporter', '-bird.v2', '-bird.socket', PATHS.birdCtl, '-format.new', '-web.listen-address', listen(t, site, host, 'prometheus-bird-exporter', 'exporter-bird'))],
        ...RESTART,
      ],
    });
  }
  if (hasRole(host, 'cache') && host.cacheEngine === 'nginx') {
    specs.push({
      name: 'prometheus-nginx-exporter',
      description: "Prometheus nginx exporter (stub_status) on the host's own address (anycdn)",
      after: ['nginx.service'],
      service: [
        ['Type', 'simple'],
        ['User', 'prometheus'],
        [
          'ExecStart',
          exec(
            '/usr/bin/prometheus-nginx-exporter',
            '-nginx.scrape-uri',
            endpointUrl(endpointOf(t, site, host, 'nginx', 'cache-status')),
            '-nginx.retries',
            '10',
            '-web.listen-address',
            listen(t, site, host, 'prometheus-nginx-exporter', 'exporter-nginx'),
          ),
        ],
        ...RESTART,
      ],
    });
  }
  if (hasRole(host, 'cache') && host.cacheEngine === 'nginx') {
    // mtail: the cache counters stub_status lacks, from nginx's access log (lib/render/mtail.ts).
    // Debian's mtail user is in group adm, which reads /var/log/nginx. --logtostderr: glog would
    // otherwise write its own log files into the temp directory.
    const mtail = endpointOf(t, site, host, 'mtail', 'exporter-mtail');
    specs.push({
      name: 'mtail',
      description: "mtail: nginx's cache statuses from its access log, on the host's own address (anycdn)",
      after: ['nginx.service'],
      service: [
        ['Type', 'simple'],
        ['User', 'mtail'],
        [
          'ExecStart',
          exec(
            '/usr/bin/mtail',
            '--progs',
            PATHS.mtailProgram,
            '--logs',
            PATHS.nginxAccessLog,
            '--address',
            mtail.address!,
            '--port',
            String(mtail.port!),
            '--emit_prog_label=false',
            '--logtostderr',
          ),
        ],
        ['ExecReload', exec('/bin/kill', '-HUP', MAINPID)],
        ...RESTART,
      ],
    });
  }
  if (hasRole(host, 'cache') && host.cacheEngine === 'squid') {
    const manager = endpointOf(t, site, host, 'squid', 'cache-manager');
    specs.push({
      name: 'prometheus-squid-exporter',
      description: "Prometheus Squid exporter (cache manager) on the host's own address (anycdn)",
      after: ['squid.service'],
      service: [
        ['Type', 'simple'],
        ['User', 'proxy'],
        [
          'ExecStart',
          exec(
            '/usr/bin/prometheus-squid-exporter',
            '-squid-hostname',
            manager.address!,
            '-squid-port',
            String(manager.port),
            '-listen',
            listen(t, site, host, 'prometheus-squid-exporter', 'exporter-squid'),
          ),
        ],
        ...RESTART,
      ],
    });
  }
  return specs;
}
