// The apply order keeps the service up: one site at a time with the shield last, one host per step,
// new hosts first, then the caches one at a time, then the lb pair backup first.
import { describe, expect, it } from 'vitest';
import { edit, shipped } from '../model/fixtures.ts';
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
});
