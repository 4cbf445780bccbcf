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
  /** Zone files: the zone's origin (knot.conf's domain; the checkers' -o). */
  zone?: string;
  /** Zone files: the SOA serial in the content (recorded in out/.anycdn/manifest.json). */
  soaSerial?: number;
  /** sysctl.d files: the settings in the content, in order, as data (the lab applies them). */
  sysctls?: Sysctl[];
}

/** One kernel setting: `key = value` in a sysctl.d file, /proc/sys/<key with / for .> at run time. */
export interface Sysctl {
  key: string;
  value: string;
}

export type CheckKind = 'bird' | 'knot' | 'zone' | 'haproxy' | 'keepalived' | 'nginx' | 'squid' | 'shell' | 'node' | 'healthcheck' | 'python' | 'thumbnailer' | 'systemd' | 'sysctl' | 'prometheus' | 'prometheus-rules' | 'mtail' | 'nft' | 'shellcheck' | 'named-checkzone';

/** What a zone file looked like in the state being replaced: its SOA serial and its sha256. */
export interface ZoneBaseline {
  serial: number;
  sha256: string;
}

/**
 * What a render knows besides the model: the previous state of each host's zone file, so a zone
 * whose content changed gets the next serial (lib/render/serial.ts). Data, not I/O.
 */
export interface RenderContext {
  zoneBaseline?: (site: string, host: string, path: string) => ZoneBaseline | undefined;
}

/** A pure renderer: no I/O, no clock, no environment. Returns [] for hosts it does not serve. */
export type Renderer = (t: Topology, site: Site, host: Host, ctx?: RenderContext) => RenderedFile[];
