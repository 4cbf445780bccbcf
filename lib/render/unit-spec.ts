// A systemd unit as data, and how its readers pick values out of it. Its own module, so the
// per-role unit builders (units-lb.ts, units-cache.ts) and units.ts do not import each other.
import type { Exec, UnitValue } from './syntax/unit.ts';

/** A unit as data: every adapter (the unit file, the lab's supervisor, the cloud's enable list) reads this. */
export interface UnitSpec {
  name: string;
  description: string;
  after?: string[];
  requires?: string[];
  /** [Service] entries in file order: plain values, or commands (argv) for the Exec*= keys. */
  service: [string, UnitValue][];
  /**
   * The open files the daemon refuses to start without (haproxy's strict-limits), where it is
   * known; LimitNOFILE= asks for at least as many. The lab checks the machine can give it.
   */
  minNofile?: number;
}

/** The plain values of `key` in a unit's [Service] section. */
export function serviceValues(u: UnitSpec, key: string): string[] {
  return u.service.filter(([k, v]) => k === key && typeof v === 'string').map(([, v]) => v as string);
}

/** The commands of an Exec*= key, in order. */
export function serviceExecs(u: UnitSpec, key: string): Exec[] {
  return u.service.filter(([k, v]) => k === key && typeof v !== 'string').map(([, v]) => v as Exec);
}

