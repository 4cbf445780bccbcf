// The directories a host's daemons need to exist before they start, with the owner and mode
// Debian's packages (or systemd, for a unit's RuntimeDirectory=/StateDirectory=) give them.
// Host views (`anycdn validate`, the lab) create exactly these on their empty tmpfs, so a view
// costs the same on every machine whatever it holds under /var or /run.
import { dirname } from 'node:path';
import type { Host, Site, Topology } from '../model/schema.ts';
import { PATHS } from './paths.ts';
import { serviceValues, unitSpecs } from './units.ts';

export interface DirNeed {
  path: string;
  owner: string;
  group: string;
  mode: number;
}

const dir = (path: string, owner: string, group: string, mode: number): DirNeed => ({ path, owner, group, mode });

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
        // nginx creates the last component of proxy_cache_path itself, as its worker user.
        dir(dirname(t.cdn.cache.nginx.path), 'root', 'root', 0o755),
      ];
    case 'squid':
      return [
        dir(dirname(PATHS.squidAccessLog), 'proxy', 'proxy', 0o755),
        dir(PATHS.squidCoredumpDir, 'proxy', 'proxy', 0o755),
        dir(t.cdn.cache.squid.path, 'proxy', 'proxy', 0o750),
      ];
    case 'anycdn-healthcheck':
      return [dir(dirname(PATHS.healthcheckStatus), 'root', 'root', 0o755)];
    default:
      return [];
  }
}

/** Every directory the host needs, sorted by path (parents first), one entry per path. */
export function hostDirs(t: Topology, site: Site, host: Host): DirNeed[] {
  const out = new Map<string, DirNeed>();
  for (const u of unitSpecs(t, site, host)) {
    const get = (key: string) => serviceValues(u, key).flatMap((v) => v.split(/\s+/));
    const user = get('User')[0] ?? 'root';
    const group = get('Group')[0] ?? user;
    for (const d of packageDirs(t, u.name)) out.set(d.path, d);
    // systemd creates these at start, owned by the unit's User= (mode 0755, its default).
    for (const name of get('RuntimeDirectory')) out.set(`/run/${name}`, dir(`/run/${name}`, user, group, 0o755));
    for (const name of get('StateDirectory')) if (!out.has(`/var/lib/${name}`)) out.set(`/var/lib/${name}`, dir(`/var/lib/${name}`, user, group, 0o755));
  }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
