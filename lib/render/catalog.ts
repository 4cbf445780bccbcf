// The daemon catalog: for each unit anycdn renders, the Debian packages it needs, and what it
// needs on the host besides its files: directories (with the owner and mode Debian's packages, or
// systemd for RuntimeDirectory=/StateDirectory=, give them), interfaces, names it resolves at
// load time, secret files fetched at boot, certificates the operator installs. Which units a host
// runs is decided once, by its roles, in units*.ts; everything here hangs off those units, so the
// checkers, the cloud bundles and the lab read one answer instead of re-deriving it.
import { dirname } from 'node:path';
import { isIP } from 'node:net';
import { originTargets, type Role } from '../model/facts.ts';
import type { Host, Site, Topology } from '../model/schema.ts';
import { servedCertPath } from './endpoints.ts';
import { birdSecretFile, PATHS } from './paths.ts';
import { serviceValues, unitSpecs, type UnitSpec } from './units.ts';
import { THUMBNAILER_PACKAGES, THUMBNAILER_UNIT } from './thumbnailer.ts';

export interface DirNeed {
  path: string;
  owner: string;
  group: string;
  mode: number;
}

const dir = (path: string, owner: string, group: string, mode: number): DirNeed => ({ path, owner, group, mode });

/** What a host needs besides its rendered files (see the header). */
export interface HostNeeds {
  dirs: DirNeed[];
  /** Interfaces that must exist (keepalived refuses missing ones). */
  interfaces: string[];
  /** Names a daemon resolves when it loads its config (nginx upstreams). */
  hostNames: string[];
  /** Files fetched at boot that a config or program reads (BGP passwords, the ACME TSIG key). */
  secretFiles: string[];
  /** Certificates (chain + key PEM) haproxy serves: installed by anycdn-cert-fetch with acme, else by the operator. */
  certPaths: string[];
  /** Files a unit writes before its daemon starts, with what it writes (bird's deprefer flag). */
  stateFiles: { path: string; content: string }[];
}

/** What bird's unit writes before the checker has said anything: neither depreferred nor draining. */
export const BIRD_ANNOUNCE_DEFAULT = 'define ANYCAST_DEPREFER = 0;\ndefine ANYCAST_DRAIN = 0;\n';

/**
 * Per unit: the Debian packages it needs (bookworm), and the host role whose hosts run it (none
 * for what every host runs: the node exporter and its firewall). The cloud's security groups are
 * per role, so an endpoint's rule goes to its unit's role (lib/cloud/security.ts).
 */
const UNITS: Record<string, { packages: string[]; role?: Role }> = {
  'anycdn-secrets': { packages: ['awscli'], role: 'dns' },
  knot: { packages: ['knot'], role: 'dns' },
  bird: { packages: ['bird2'], role: 'dns' },
  // The health checker is a Node.js program; its withdraw script and transitions run ip.
  'anycdn-healthcheck': { packages: ['nodejs', 'iproute2'], role: 'dns' },
  haproxy: { packages: ['haproxy'], role: 'lb' },
  // nft: `anycdn drain` of an lb host holds new connections to the VIP off (lib/drain/plan.ts).
  keepalived: { packages: ['keepalived', 'nftables'], role: 'lb' },
  nginx: { packages: ['nginx'], role: 'cache' },
  // Derived images (images.transforms): libvips through GObject introspection, on Debian's python3.
  [THUMBNAILER_UNIT]: { packages: THUMBNAILER_PACKAGES, role: 'cache' },
  squid: { packages: ['squid'], role: 'cache' },
  'anycdn-exporter-firewall': { packages: ['nftables'] },
  // The issuer (acme.issuer, a host of any role; it opens no listener): the ACME client,
  // knsupdate and kdig for the challenge, openssl for the checks.
  'anycdn-acme': { packages: ['lego', 'knot-dnsutils', 'openssl', 'awscli'] },
  // lb hosts: openssl checks the certificate, socat hands it to haproxy's runtime API.
  'anycdn-cert-fetch': { packages: ['openssl', 'socat', 'awscli'], role: 'lb' },
  'prometheus-node-exporter': { packages: ['prometheus-node-exporter'] },
  'prometheus-bird-exporter': { packages: ['prometheus-bird-exporter'], role: 'dns' },
  'prometheus-nginx-exporter': { packages: ['prometheus-nginx-exporter'], role: 'cache' },
  mtail: { packages: ['mtail'], role: 'cache' },
  'prometheus-squid-exporter': { packages: ['prometheus-squid-exporter'], role: 'cache' },
};

/** The role whose hosts run a unit, or undefined for a unit every host runs (or one the catalog does not know). */
export function unitRole(unit: string): Role | undefined {
  return UNITS[unit]?.role;
}

/** Every unit the catalog knows, with its packages and role, in catalog order (docs/checkers.md, the setup line). */
export function catalogUnits(): { unit: string; packages: string[]; role?: Role }[] {
  return Object.entries(UNITS).map(([unit, e]) => ({ unit, ...e }));
}

/** The Debian packages one unit needs ([] for a unit the catalog does not know). */
export function unitPackages(unit: string): string[] {
  return UNITS[unit]?.packages ?? [];
}

/** The Debian packages a host's units need, sorted and unique. */
export function hostPackages(units: UnitSpec[]): string[] {
  const out = new Set<string>();
  for (const u of units) {
    const entry = UNITS[u.name];
    if (!entry) throw new Error(`internal: unit ${u.name} has no entry in the daemon catalog`);
    entry.packages.forEach((x) => out.add(x));
  }
  return [...out].sort();
}

/** Everything but directories: what each unit's daemon reaches outside its rendered files. */
function unitNeeds(t: Topology, site: Site, host: Host, unit: string): Omit<HostNeeds, 'dirs' | 'stateFiles'> {
  const none = { interfaces: [], hostNames: [], secretFiles: [], certPaths: [] };
  switch (unit) {
    case 'bird':
      return { ...none, secretFiles: site.bgp.peers.filter((p) => p.passwordRef).map((p) => birdSecretFile(p.name)) };
    case 'knot':
      // With acme, knot.conf includes the TSIG key of the challenge updates.
      return { ...none, secretFiles: t.cdn.acme ? [PATHS.knotAcmeKey] : [] };
    case 'anycdn-acme':
      return { ...none, secretFiles: [PATHS.acmeTsigKey] };
    case 'keepalived':
      return { ...none, interfaces: [host.interface] };
    case 'haproxy':
      return { ...none, certPaths: [servedCertPath(t, site, host)].filter((p) => p !== undefined) };
    case 'nginx': {
      // Every origin's hostname: nginx resolves each upstream at start.
      return { ...none, hostNames: [...new Set(originTargets(t).map((o) => o.host).filter((h) => isIP(h) === 0))] };
    }
    default:
      return none;
  }
}

/** What each daemon's Debian package creates and the daemon expects (bookworm). */
function packageDirs(t: Topology, unit: string): DirNeed[] {
  switch (unit) {
    case 'knot':
      return [dir(PATHS.knotStorage, 'root', 'knot', 0o770)];
    case 'haproxy':
      return [dir('/var/lib/haproxy', 'root', 'root', 0o755)];
    case 'nginx':
      return [
        dir(dirname(PATHS.nginxErrorLog), 'root', 'adm', 0o755),
        dir(PATHS.nginxTempDir, 'root', 'root', 0o755),
        // The cache's parent, and the cache as nginx makes it: it creates the last component of
        // proxy_cache_path itself (mode 0700) and gives it to its worker user.
        dir(dirname(t.cdn.cache.nginx.path), 'root', 'root', 0o755),
        dir(t.cdn.cache.nginx.path, 'www-data', 'root', 0o700),
      ];
    case 'squid':
      return [
        dir(dirname(PATHS.squidAccessLog), 'proxy', 'proxy', 0o755),
        dir(PATHS.squidCoredumpDir, 'proxy', 'proxy', 0o755),
        dir(t.cdn.cache.squid.path, 'proxy', 'proxy', 0o750),
      ];
    case 'anycdn-healthcheck':
      return [dir(dirname(PATHS.healthcheckStatus), 'root', 'root', 0o755)];
    case 'prometheus-node-exporter':
      return [dir(dirname(PATHS.nodeExporterTextfiles), 'prometheus', 'prometheus', 0o755), dir(PATHS.nodeExporterTextfiles, 'root', 'root', 0o755)];
    default:
      return [];
  }
}

/** Everything the host needs besides its files, each list sorted and unique. */
export function hostNeeds(t: Topology, site: Site, host: Host, units: UnitSpec[] = unitSpecs(t, site, host)): HostNeeds {
  const sets = { interfaces: new Set<string>(), hostNames: new Set<string>(), secretFiles: new Set<string>(), certPaths: new Set<string>() };
  for (const u of units) {
    const n = unitNeeds(t, site, host, u.name);
    for (const k of Object.keys(sets) as (keyof typeof sets)[]) n[k].forEach((x) => sets[k].add(x));
  }
  const sorted = (s: Set<string>) => [...s].sort();
  return {
    dirs: hostDirs(t, site, host, units),
    interfaces: sorted(sets.interfaces),
    hostNames: sorted(sets.hostNames),
    secretFiles: sorted(sets.secretFiles),
    certPaths: sorted(sets.certPaths),
    stateFiles: units.some((u) => u.name === 'bird') ? [{ path: PATHS.birdAnnounce, content: BIRD_ANNOUNCE_DEFAULT }] : [],
  };
}

/** Every directory the host needs, sorted by path (parents first), one entry per path. */
export function hostDirs(t: Topology, site: Site, host: Host, units: UnitSpec[] = unitSpecs(t, site, host)): DirNeed[] {
  const out = new Map<string, DirNeed>();
  for (const u of units) {
    const get = (key: string) => serviceValues(u, key).flatMap((v) => v.split(/\s+/));
    const user = get('User')[0] ?? 'root';
    const group = get('Group')[0] ?? user;
    for (const d of packageDirs(t, u.name)) out.set(d.path, d);
    // systemd creates these at start, owned by the unit's User= (mode 0755, its default).
    const runtimeMode = parseInt(get('RuntimeDirectoryMode')[0] ?? '0755', 8);
    for (const name of get('RuntimeDirectory')) out.set(`/run/${name}`, dir(`/run/${name}`, user, group, runtimeMode));
    const stateMode = parseInt(get('StateDirectoryMode')[0] ?? '0755', 8);
    for (const name of get('StateDirectory')) if (!out.has(`/var/lib/${name}`)) out.set(`/var/lib/${name}`, dir(`/var/lib/${name}`, user, group, stateMode));
  }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
