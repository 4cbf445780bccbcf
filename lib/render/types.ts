import type { Host, Site, Topology } from '../model/schema.ts';

/** One file for one host, at its absolute path on that host. */
export interface RenderedFile {
  site: string;
  host: string;
  /** Absolute path on the host, such as /etc/bird/bird.conf. */
  path: string;
  content: string;
  /** Octal file mode; 0o644 unless the file is a script. */
  mode: number;
  /** Which checker validates this file (see lib/check), or none. */
  check?: CheckKind;
}

export type CheckKind = 'bird' | 'knot' | 'zone' | 'haproxy' | 'keepalived' | 'nginx' | 'squid' | 'shell' | 'node' | 'healthcheck' | 'systemd' | 'sysctl' | 'prometheus' | 'prometheus-rules';

/** A pure renderer: no I/O, no clock, no environment. Returns [] for hosts it does not serve. */
export type Renderer = (t: Topology, site: Site, host: Host) => RenderedFile[];

export function hasRole(host: Host, role: 'lb' | 'dns' | 'cache'): boolean {
  return host.roles.includes(role);
}
