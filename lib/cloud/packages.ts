// What a host installs and starts, by its roles: the Debian packages behind each daemon, and the
// systemd units to enable (the ones the bundle ships, plus the Debian units of role daemons that
// anycdn configures but does not ship a unit for).
import type { Host, Site } from '../model/schema.ts';
import type { RenderedFile } from '../render/types.ts';
import { PATHS } from '../render/paths.ts';

type Role = Host['roles'][number];

const ROLE_PACKAGES: Record<Role, string[]> = {
  lb: ['haproxy', 'keepalived'],
  // The health checker is a Node.js program; it runs ip on a transition.
  dns: ['knot', 'nodejs', 'iproute2'],
  cache: [],
};

const ROLE_UNITS: Record<Role, string[]> = {
  lb: ['haproxy.service', 'keepalived.service'],
  dns: ['knot.service'],
  cache: [],
};

/** Debian packages for the host's roles, sorted and unique. */
export function debianPackages(site: Site, host: Host): string[] {
  const out = new Set<string>();
  for (const role of host.roles) for (const p of ROLE_PACKAGES[role]) out.add(p);
  if (host.roles.includes('dns') && site.bgp.peers.length > 0) out.add('bird2');
  if (host.roles.includes('cache') && host.cacheEngine) out.add(host.cacheEngine);
  return [...out].sort();
}

/** systemd units to enable and (re)start: shipped units and role daemons, sorted and unique. */
export function systemdUnits(host: Host, files: RenderedFile[]): string[] {
  const out = new Set<string>();
  for (const f of files) {
    const m = f.path.startsWith(`${PATHS.unitsDir}/`) ? /^[^/]+\.service$/.exec(f.path.slice(PATHS.unitsDir.length + 1)) : null;
    if (m) out.add(m[0]);
  }
  for (const role of host.roles) for (const u of ROLE_UNITS[role]) out.add(u);
  if (host.roles.includes('cache') && host.cacheEngine) out.add(`${host.cacheEngine}.service`);
  return [...out].sort();
}
