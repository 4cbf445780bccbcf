// docs/day2.md, held true: what render does when a cache, a peer or a site is
// added to the model.
import { describe, expect, it } from 'vitest';
import { renderPrometheus } from '../../lib/render/prometheus.ts';
import { renderTopology } from '../../lib/render/index.ts';
import type { Topology } from '../../lib/model/schema.ts';
import { loadEdited } from '../helpers/topology.ts';

const file = (t: Topology, host: string, path: string) => renderTopology(t).find((f) => f.host === host && f.path === path)?.content ?? '';
const scrapeTargets = (t: Topology) => [...renderPrometheus(t)[0]!.content.matchAll(/- (\d+\.\d+\.\d+\.\d+:\d+)/g)].map((m) => m[1]!);

describe('day 2', () => {
  it('a new cache joins both lb hosts\' haproxy backend, with an id of its own that moves no other cache, and the scrape config', () => {
    const t = loadEdited((x) => {
      x['sites/ams.yaml'] += '  - name: ams-cache3\n    roles: [cache]\n    cacheEngine: nginx\n    address: 198.51.100.23\n';
    });
    for (const lb of ['ams-lb1', 'ams-lb2']) {
      expect(file(t, lb, '/etc/haproxy/haproxy.cfg').split('\n').filter((l) => /^\tserver /.test(l))).toEqual([
        '\tserver ams-cache1 198.51.100.21:80 id 313213',
        '\tserver ams-cache2 198.51.100.22:80 id 312778',
        '\tserver ams-cache3 198.51.100.23:80 id 312343',
      ]);
    }
    expect(scrapeTargets(t).filter((x) => x.startsWith('198.51.100.23:'))).toEqual(['198.51.100.23:9100', '198.51.100.23:9113', '198.51.100.23:3903']);
  });

  it('a new peer gets a bird session on every dns host of its site', () => {
    const t = loadEdited((x) => {
      x['sites/ams.yaml'] = x['sites/ams.yaml']!.replace('\n  peers:\n', '\n  peers:\n    - name: transit2\n      address: 198.51.100.2\n      asn: 64510\n');
    });
    for (const dns of ['ams-lb1', 'ams-lb2']) {
      expect(file(t, dns, '/etc/bird/bird.conf')).toMatch(/^protocol bgp bgp_transit2 from upstream \{\n(.*\n)*?\tneighbor 198\.51\.100\.2 as 64510;/m);
    }
  });

  it('a new site\'s hosts join the scrape config by themselves', () => {
    const t = loadEdited((x) => {
      x['sites/fra.yaml'] = x['sites/nyc.yaml']!
        .replace('id: nyc', 'id: fra')
        .replace('New York, US', 'Frankfurt, DE')
        .replace('asn: 65020', 'asn: 65040')
        .replace('virtualRouterId: 20', 'virtualRouterId: 40')
        .replaceAll('198.51.100.', '198.18.0.')
        .replaceAll('2001:db8:b:', '2001:db8:f:')
        .replaceAll('nyc-', 'fra-')
        .replace('asn: 64502', 'asn: 64503')
        .replace('asn: 64502', 'asn: 64503');
    });
    expect(t.sites.map((s) => s.id)).toEqual(['ams', 'fra', 'nyc', 'sin']);
    const fra = t.sites.find((s) => s.id === 'fra')!.hosts.map((h) => `${h.address}:9100`);
    expect(scrapeTargets(t).filter((x) => x.endsWith(':9100') && x.startsWith('198.18.0.'))).toEqual(fra);
    expect(fra).toHaveLength(4);
  });
});
