// Where each rendered file lives on a host. Renderers, units, checkers and the lab share these.
export const PATHS = {
  birdConf: '/etc/bird/bird.conf',
  birdCtl: '/run/bird/bird.ctl',
  birdSecretsDir: '/run/anycdn/secrets',
  knotConf: '/etc/knot/knot.conf',
  knotZonesDir: '/etc/knot/zones',
  knotStorage: '/var/lib/knot',
  knotRundir: '/run/knot',
  /** The health checker (a Node.js program), its config, and the script that withdraws after it. */
  healthcheck: '/usr/local/lib/anycdn/anycdn-healthcheck.mjs',
  healthcheckConf: '/usr/local/etc/anycdn/healthcheck.json',
  healthcheckStatus: '/run/anycdn/healthcheck.state',
  withdraw: '/usr/local/sbin/anycdn-withdraw',
  /** bird includes it: `define ANYCAST_DEPREFER = 0|1; define ANYCAST_DRAIN = 0|1;`, written by the checker on a change. */
  birdAnnounce: '/run/anycdn/bird-announce.conf',
  /** `anycdn drain` writes it on dns hosts (`site` or `host`); the checker drains while it exists. Gone at reboot. */
  drainRequest: '/run/anycdn/drain',
  /** `anycdn drain` writes 1 here on lb hosts; keepalived tracks it (weight 0: FAULT, the peer takes the VIP). */
  vrrpDrain: '/run/anycdn/vrrp-drain',
  node: '/usr/bin/node',
  python: '/usr/bin/python3',
  fetchSecrets: '/usr/local/sbin/anycdn-fetch-secrets',
  unitsDir: '/etc/systemd/system',
  // lb hosts: haproxy, keepalived
  haproxyConf: '/etc/haproxy/haproxy.cfg',
  haproxyPid: '/run/haproxy.pid',
  haproxySocket: '/run/haproxy/admin.sock',
  /** Runtime flags haproxy reads (empty as rendered): `anycdn drain` of an lb host adds `lb-drain 1`. */
  haproxyDrainMap: '/etc/haproxy/anycdn-drain.map',
  keepalivedConf: '/etc/keepalived/keepalived.conf',
  keepalivedPid: '/run/keepalived/keepalived.pid',
  /** 0 while haproxy runs, 1 once it has exited; keepalived tracks it (vrrp_track_file). */
  haproxyStopped: '/run/anycdn/haproxy-stopped',
  keepalivedVrrpPid: '/run/keepalived/vrrp.pid',
  eipTakeover: '/usr/local/sbin/anycdn-eip-takeover',
  lbSysctl: '/etc/sysctl.d/60-anycdn.conf',
  // cache hosts: nginx
  nginxConf: '/etc/nginx/nginx.conf',
  nginxPid: '/run/nginx.pid',
  nginxTempDir: '/var/lib/nginx',
  nginxAccessLog: '/var/log/nginx/access.log',
  nginxErrorLog: '/var/log/nginx/error.log',
  /** nginx caches with images.transforms: the thumbnailer (a Python program) and its config. */
  thumbnailer: '/usr/local/lib/anycdn/anycdn-thumbnailer.py',
  thumbnailerConf: '/usr/local/etc/anycdn/thumbnailer.json',
  // cache hosts: squid
  squidConf: '/etc/squid/squid.conf',
  squidPid: '/run/squid.pid',
  squidAccessLog: '/var/log/squid/access.log',
  squidCacheLog: '/var/log/squid/cache.log',
  squidCoredumpDir: '/var/spool/squid',
  squidStripQuery: '/usr/local/sbin/anycdn-squid-strip-query',
  // monitoring: node-exporter reads *.prom files here (Debian's textfile collector directory);
  // keepalived's notify script writes the VRRP state into it.
  nodeExporterTextfiles: '/var/lib/prometheus/node-exporter',
  vrrpState: '/usr/local/sbin/anycdn-vrrp-state',
  // Certificates (docs/certificates.md). The issuer (acme.issuer): the ACME client's state, its
  // renewal program and the DNS-01 hook that answers the challenge at every site's Knot.
  acmeRenew: '/usr/local/sbin/anycdn-acme-renew',
  acmeDnsHook: '/usr/local/sbin/anycdn-acme-dns',
  /** lego's account, and the new key until it is stored: tmpfs, so no key is ever on disk here. */
  acmeState: '/run/anycdn-acme',
  /** The issuer's TSIG key for knsupdate (algorithm:name:secret), fetched at boot. */
  acmeTsigKey: '/run/anycdn/secrets/acme-tsig.key',
  /** dns hosts: the same TSIG key as a Knot `key:` section, which knot.conf includes (knot reads it: root:knot 0640 in a directory of its own). */
  knotAcmeKey: '/run/anycdn/knot-secrets/acme-key.conf',
  /** lb hosts (and the issuer): is this PEM one haproxy may serve? */
  certCheck: '/usr/local/sbin/anycdn-cert-check',
  /** lb hosts: check, install atomically, hand to haproxy without a reload, export notAfter. */
  certInstall: '/usr/local/sbin/anycdn-cert-install',
  /** lb hosts: fetch the PEM from acme.certRef and install it. */
  certFetch: '/usr/local/sbin/anycdn-cert-fetch',
  /** Where the certificate programs keep keys and PEMs in passing: tmpfs, never the disk. */
  tmpDir: '/run/anycdn/tmp',
  /** The install's lock: one install at a time. */
  certLock: '/run/anycdn/cert-install.lock',
  /** node-exporter's textfile with the notAfter of every certificate haproxy serves. */
  certMetrics: '/var/lib/prometheus/node-exporter/anycdn-tls.prom',
  // nginx caches: mtail's program that counts cache statuses from the access log (Debian's mtail reads /etc/mtail).
  mtailProgram: '/etc/mtail/anycdn-nginx.mtail',
  // The Prometheus server (out/monitoring/prometheus/).
  prometheusConf: '/etc/prometheus/prometheus.yml',
  prometheusRules: '/etc/prometheus/anycdn-rules.yml',
} as const;

export function zoneFile(zone: string): string {
  return `${PATHS.knotZonesDir}/${zone}.zone`;
}

export function birdSecretFile(peerName: string): string {
  return `${PATHS.birdSecretsDir}/bird-${peerName}.conf`;
}
