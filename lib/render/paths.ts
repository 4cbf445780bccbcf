// Where each rendered file lives on a host. Renderers, units, checkers and the lab share these.
export const PATHS = {
  birdConf: '/etc/bird/bird.conf',
  birdDrain: '/etc/bird/anycdn-drain.conf',
  birdCtl: '/run/bird/bird.ctl',
  birdSecretsDir: '/run/anycdn/secrets',
  knotConf: '/etc/knot/knot.conf',
  knotZonesDir: '/etc/knot/zones',
  knotStorage: '/var/lib/knot',
  knotRundir: '/run/knot',
  healthcheck: '/usr/local/sbin/anycdn-healthcheck',
  fetchSecrets: '/usr/local/sbin/anycdn-fetch-secrets',
  unitsDir: '/etc/systemd/system',
} as const;

export function zoneFile(zone: string): string {
  return `${PATHS.knotZonesDir}/${zone}.zone`;
}

export function birdSecretFile(peerName: string): string {
  return `${PATHS.birdSecretsDir}/bird-${peerName}.conf`;
}
