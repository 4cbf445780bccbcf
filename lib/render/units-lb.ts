// Units for lb hosts (haproxy, keepalived).
import type { Host, Site, Topology } from '../model/schema.ts';
import type { UnitSpec } from './units.ts';

export function lbUnits(_t: Topology, _site: Site, _host: Host): UnitSpec[] {
  return [];
}
