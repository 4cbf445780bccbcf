// Where each exporter listens on a host's own address (the Debian packages' default ports), so the
// units, the haproxy and checker configs, the scrape config, the security groups and the model
// rule that no other port takes one all read one table.

/** An exporter kind: the Prometheus job that scrapes it. */
export type ExporterKind = 'node' | 'bird' | 'haproxy' | 'nginx' | 'squid' | 'healthcheck';

export const EXPORTER_PORTS: Record<Exclude<ExporterKind, 'healthcheck'>, number> = {
  node: 9100,
  // haproxy serves /metrics itself (its prometheus-exporter service), on the port Debian's retired
  // prometheus-haproxy-exporter would take.
  haproxy: 9101,
  nginx: 9113,
  squid: 9301,
  bird: 9324,
};

export const METRICS_PATH = '/metrics';

/** The nftables table that admits only monitoring.scrapeFrom to the Go exporters (firewall.ts), and its unit. */
export const FIREWALL = {
  unit: 'anycdn-exporter-firewall',
  file: '/usr/local/etc/anycdn/exporters.nft',
  table: 'anycdn_exporters',
  nft: '/usr/sbin/nft',
} as const;
