// Units for cache hosts (nginx or squid).
import type { Host, Site, Topology } from '../model/schema.ts';
import type { UnitSpec } from './units.ts';

export function cacheUnits(_t: Topology, _site: Site, _host: Host): UnitSpec[] {
  return [];
}
