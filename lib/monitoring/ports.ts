// Where each exporter listens on a host's own address (the Debian packages' default ports), so the
// units, the haproxy and checker configs, the scrape config, the security groups and the model
// rule that no other port takes one all read one table.

/** An exporter kind: the Prometheus job that scrapes it. */
export type ExporterKind = 'node' | 'bird' | 'haproxy' | 'nginx' | 'squid' | 'healthcheck';

export { EXPORTER_PORTS } from '../model/facts.ts';

export const METRICS_PATH = '/metrics';

/** The nftables table that admits only monitoring.scrapeFrom to the Go exporters (firewall.ts), and its unit. */
export const FIREWALL = {
  unit: 'anycdn-exporter-firewall',
  file: '/usr/local/etc/anycdn/exporters.nft',
  table: 'anycdn_exporters',
  nft: '/usr/sbin/nft',
} as const;
