// The apply order keeps the service up: one site at a time with the shield last, one host per step,
// new hosts first, then the caches one at a time, then the lb pair backup first.
import { describe, expect, it } from 'vitest';
import { edit, shipped } from '../model/fixtures.ts';
import { shippedTexts } from '../helpers/topology.ts';
import { planOf } from './harness.ts';

describe('apply order', () => {
  it('every host of two metal sites and one aws site changes: sites one after another, hosts one per step', () => {
    const texts = edit(
      shipped(),
      ['sites/cdn.yaml', 'intervalMs: 150', 'intervalMs: 200'],
      ['sites/cdn.yaml', 'cache:\n  keyIncludesQuery: false', 'cache:\n  originReadTimeoutSec: 20\n  keyIncludesQuery: false'],
      ['sites/nyc.yaml', '    address: 198.51.100.86\n', '    address: 198.51.100.86\n  - name: nyc-cache3\n    roles: [cache]\n    cacheEngine: squid\n    address: 198.51.100.87\n'],
    );
    const steps = planOf(texts).steps.map((s) => `${s.n}. ${s.title} [${s.impact}]${s.drainFirst ? ' drain first' : ''}`);
    expect(steps).toEqual([
      '1. nyc/nyc-cache3 [host-add]',
      '2. nyc/nyc-cache1 [squid-reconfigure]',
      '3. nyc/nyc-cache2 [squid-reconfigure]',
      '4. nyc/nyc-lb2 [healthcheck-restart]',
      '5. nyc/nyc-lb1 [healthcheck-restart]',
      '6. deploy anycdn-sin: its hosts restart one at a time, each waiting for the previous one to be healthy [cloud-interruption]',
      // ams is the shield: the other sites fetch through it, so it changes last.
      '7. ams/ams-cache1 [nginx-reload]',
      '8. ams/ams-cache2 [nginx-reload]',
      '9. ams/ams-lb2 [healthcheck-restart]',
      '10. ams/ams-lb1 [healthcheck-restart]',
    ]);
  });

  it('a model drain of the VRRP master: the runtime drain of its lb role first (no "drain first" around it, it stays drained), then the files and the reloads', () => {
    const drained = edit(shipped(), ['sites/ams.yaml', '  - name: ams-lb1\n    roles: [lb, dns]\n', '  - name: ams-lb1\n    roles: [lb, dns]\n    state: drained\n']);
    expect(planOf(drained).steps).toEqual([
      {
        n: 1,
        title: 'ams/ams-lb1',
        site: 'ams',
        hosts: ['ams-lb1'],
        impact: 'keepalived-vip-move',
        classes: ['keepalived-vip-move', 'healthcheck-reload'],
        drainFirst: false,
        actions: ['anycdn drain ams/ams-lb1 --role lb --apply', 'copy out/ams/ams-lb1/ to / on ams-lb1 (or pull its bundle)', 'systemctl reload anycdn-healthcheck', 'systemctl reload keepalived'],
      },
    ]);
    // Back: the files and reloads first, then the runtime undrain clears the flags.
    expect(planOf(shipped(), undefined, drained).steps[0]!.actions).toEqual([
      'copy out/ams/ams-lb1/ to / on ams-lb1 (or pull its bundle)',
      'systemctl reload anycdn-healthcheck',
      'systemctl reload keepalived',
      'anycdn undrain ams/ams-lb1 --role lb --apply',
    ]);
  });

  it('Prometheus reloads its scrape config after every host it scrapes, the shield site included', () => {
    const texts = edit(shippedTexts(), ['sites/ams.yaml', '    address: 198.51.100.22\n', '    address: 198.51.100.22\n  - name: ams-cache3\n    roles: [cache]\n    cacheEngine: nginx\n    address: 198.51.100.23\n']);
    const steps = planOf(texts, undefined, shippedTexts()).steps.map((s) => `${s.title} [${s.impact}]`);
    expect(steps).toEqual(['ams/ams-cache3 [host-add]', 'ams/ams-lb2 [haproxy-reload]', 'ams/ams-lb1 [haproxy-reload]', 'monitoring/prometheus [prometheus-reload]']);
  });
});
