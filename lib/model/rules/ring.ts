// haproxy ring ids: only caches sit on the ring, and no two caches of a site (one backend) may
// share an id: haproxy refuses a duplicate, and a silent renumbering would move the whole ring.
import { MAX_RING_ID, ringId } from '../ring-id.ts';
import type { Rule } from './types.ts';

export const ring: Rule = (t, report) => {
  for (const site of t.sites) {
    site.hosts.forEach((h, i) => {
      if (h.ringId !== undefined && !h.roles.includes('cache')) {
        report(site.id, ['hosts', i, 'ringId'], `hosts[${i}].ringId: ${h.name} is not a cache host, and only caches sit on haproxy's ring; remove ringId`);
      }
    });
    const caches = site.hosts.map((h, i) => ({ h, i })).filter(({ h }) => h.roles.includes('cache'));
    const taken = new Set(caches.map(({ h }) => ringId(h)));
    const seen = new Map<number, (typeof caches)[number]>();
    for (const c of caches) {
      const id = ringId(c.h);
      const first = seen.get(id);
      if (!first) {
        seen.set(id, c);
        continue;
      }
      if (first.h.name === c.h.name) continue; // a duplicate name, which rules/names.ts reports
      const how = (x: typeof c) => (x.h.ringId !== undefined ? 'its ringId' : 'derived from its name');
      let free = (id % MAX_RING_ID) + 1;
      while (taken.has(free)) free = (free % MAX_RING_ID) + 1;
      const field = c.h.ringId !== undefined ? 'ringId' : 'name';
      report(
        site.id,
        ['hosts', c.i, field],
        `hosts[${c.i}].${field}: ${c.h.name} gets haproxy server id ${id} (${how(c)}), as ${first.h.name} does (${how(first)}), and two caches of one site cannot share a place on the ring; set ringId on one of them to an id no other cache of ${site.id} has, such as ringId: ${free}`,
      );
    }
  }
};
