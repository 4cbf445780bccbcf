// Units of the Debian exporters, when the model has `monitoring`. Each is named as Debian's own
// unit, so the full unit under /etc/systemd/system replaces it: Debian's listens on every address
// (the VIP and the anycast address included), ours only on the host's own address. haproxy and
// the health checker serve their metrics themselves (haproxy's prometheus-exporter service; the
// checker's /metrics), so they have no exporter unit: Debian's prometheus-haproxy-exporter is the
// retired upstream haproxy_exporter, which scraped the CSV stats haproxy now exports natively.
import type { Host, Site, Topology } from '../model/schema.ts';
import { runsBird } from '../model/facts.ts';
import { EXPORTER_PORTS, FIREWALL } from '../monitoring/ports.ts';
import { NGINX_STATUS } from './nginx.ts';
import { PATHS } from './paths.ts';
import { SQUID_MANAGER_PORT } from './squid.ts';
import { exec, type Exec, type UnitValue } from './syntax/unit.ts';
import { hasRole } from './types.ts';
import type { UnitSpec } from './unit-spec.ts';

const listen = (host: Host, port: number) => `${host.address}:${port}`;

/** As Debian's units: restart a crashed exporter, never take the daemon it watches with it. */
const RESTART: [string, UnitValue][] = [
  ['Restart', 'on-failure'],
  ['RestartSec', '2'],
];

export function monitoringUnits(t: Topology, site: Site, host: Host): UnitSpec[] {
  if (!t.cdn.monitoring) return [];
  // Every exporter starts after the table that keeps other sources off its port is loaded.
  const exporters = exporterUnits(site, host).map((u) => ({ ...u, after: [`${FIREWALL.unit}.service`, ...(u.after ?? [])] }));
  return [firewallUnit(), ...exporters];
}

/** Loads the exporters' nftables table (lib/monitoring/firewall.ts) before they start; stopping it removes the table. */
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

function exporterUnits(site: Site, host: Host): UnitSpec[] {
  const specs: UnitSpec[] = [
    {
      name: 'prometheus-node-exporter',
      description: "Prometheus node exporter on the host's own address (anycdn)",
      after: ['network-online.target'],
      service: [
        ['Type', 'simple'],
        ['User', 'prometheus'],
        ['ExecStart', exec('/usr/bin/prometheus-node-exporter', `--web.listen-address=${listen(host, EXPORTER_PORTS.node)}`, `--collector.textfile.directory=${PATHS.nodeExporterTextfiles}`)],
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
        ['ExecStart', exec('/usr/bin/prometheus-bird-exporter', '-bird.v2', '-bird.socket', PATHS.birdCtl, '-format.new', '-web.listen-address', listen(host, EXPORTER_PORTS.bird))],
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
            `http://${NGINX_STATUS.address}:${NGINX_STATUS.port}${NGINX_STATUS.path}`,
            '-nginx.retries',
            '10',
            '-web.listen-address',
            listen(host, EXPORTER_PORTS.nginx),
          ),
        ],
        ...RESTART,
      ],
    });
  }
  if (hasRole(host, 'cache') && host.cacheEngine === 'squid') {
    specs.push({
      name: 'prometheus-squid-exporter',
      description: "Prometheus Squid exporter (cache manager) on the host's own address (anycdn)",
      after: ['squid.service'],
      service: [
        ['Type', 'simple'],
        ['User', 'proxy'],
        ['ExecStart', exec('/usr/bin/prometheus-squid-exporter', '-squid-hostname', '127.0.0.1', '-squid-port', String(SQUID_MANAGER_PORT), '-listen', listen(host, EXPORTER_PORTS.squid))],
        ...RESTART,
      ],
    });
  }
  return specs;
}
