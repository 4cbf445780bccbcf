// The table of model edits from issue 12, each with the impact classes it must get and a golden
// text plan (test/plan/golden/<name>.txt, refreshed with `vitest -u`) that a reviewer reads.
import { describe, expect, it } from 'vitest';
import { formatPlan } from '../../lib/plan/format.ts';
import { edit, shipped, type Texts } from '../model/fixtures.ts';
import { shippedTexts } from '../helpers/topology.ts';
import { classLines, planOf } from './harness.ts';

const cases: { name: string; texts: Texts; base?: Texts; classes: string[] }[] = [
  {
    name: 'peer-asn',
    texts: edit(shipped(), ['sites/ams.yaml', '      address: 198.51.100.1\n      asn: 64501', '      address: 198.51.100.1\n      asn: 64599']),
    classes: ['ams/ams-lb1 bird bird-configure', 'ams/ams-lb1 bird bird-session-reset', 'ams/ams-lb2 bird bird-configure', 'ams/ams-lb2 bird bird-session-reset'],
  },
  {
    name: 'advert-interval',
    texts: edit(shipped(), ['sites/sin.yaml', 'advertIntervalMs: 100', 'advertIntervalMs: 200']),
    classes: ['sin/sin-lb1 cloud-interruption', 'sin/sin-lb1 keepalived keepalived-reload', 'sin/sin-lb2 cloud-interruption', 'sin/sin-lb2 keepalived keepalived-reload'],
  },
  {
    name: 'new-cache',
    texts: edit(shipped(), ['sites/nyc.yaml', '    address: 198.51.100.86\n', '    address: 198.51.100.86\n  - name: nyc-cache3\n    roles: [cache]\n    cacheEngine: squid\n    address: 198.51.100.87\n']),
    classes: ['nyc/nyc-cache3 host-add', 'nyc/nyc-lb1 haproxy haproxy-reload', 'nyc/nyc-lb2 haproxy haproxy-reload'],
  },
  {
    name: 'cache-engine-swap',
    texts: edit(shipped(), ['sites/ams.yaml', '  - name: ams-cache1\n    roles: [cache]\n    cacheEngine: nginx', '  - name: ams-cache1\n    roles: [cache]\n    cacheEngine: squid']),
    // haproxy checks a Squid cache on another path than an nginx one.
    classes: ['ams/ams-cache1 nginx daemon-remove', 'ams/ams-cache1 squid daemon-add', 'ams/ams-lb1 haproxy haproxy-reload', 'ams/ams-lb2 haproxy haproxy-reload'],
  },
  {
    name: 'cache-size',
    texts: edit(shipped(), ['sites/cdn.yaml', 'cache:\n  keyIncludesQuery: false', 'cache:\n  nginx:\n    maxSizeGiB: 80\n  squid:\n    cacheDirMiB: 81920\n  keyIncludesQuery: false']),
    // nginx's max_size alone keeps the cache on a HUP (same zone, path and levels); Squid's cache_dir
    // size is a rebuild.
    classes: [
      'ams/ams-cache1 nginx nginx-reload',
      'ams/ams-cache2 nginx nginx-reload',
      'nyc/nyc-cache1 squid squid-restart-rebuild',
      'nyc/nyc-cache2 squid squid-restart-rebuild',
      'sin/sin-cache1 cloud-interruption',
      'sin/sin-cache1 nginx nginx-reload',
      'sin/sin-cache2 cloud-interruption',
      'sin/sin-cache2 nginx nginx-reload',
    ],
  },
  {
    name: 'nginx-cache-zone',
    // A new zone size is a new zone: nginx would not take the old one over.
    texts: edit(shipped(), ['sites/cdn.yaml', 'cache:\n  keyIncludesQuery: false', 'cache:\n  nginx:\n    keysZoneMiB: 128\n  keyIncludesQuery: false']),
    classes: [
      'ams/ams-cache1 nginx nginx-restart-cache-loss',
      'ams/ams-cache2 nginx nginx-restart-cache-loss',
      'sin/sin-cache1 cloud-interruption',
      'sin/sin-cache1 nginx nginx-restart-cache-loss',
      'sin/sin-cache2 cloud-interruption',
      'sin/sin-cache2 nginx nginx-restart-cache-loss',
    ],
  },
  {
    name: 'ring-id-pinned',
    // A cache given another place on the ring: its images and some of the other cache's change cache.
    texts: edit(shipped(), ['sites/ams.yaml', '    address: 198.51.100.21\n', '    address: 198.51.100.21\n    ringId: 4242\n']),
    classes: ['ams/ams-lb1 haproxy haproxy-reload', 'ams/ams-lb1 haproxy haproxy-ring-move', 'ams/ams-lb2 haproxy haproxy-reload', 'ams/ams-lb2 haproxy haproxy-ring-move'],
  },
  {
    name: 'lb-model-drain',
    // The VRRP master drained in the model: the VIP moves (the runtime drain's order, SYNs held),
    // and its dns role drains through the checker's reload, not a restart.
    texts: edit(shipped(), ['sites/ams.yaml', '  - name: ams-lb1\n    roles: [lb, dns]\n', '  - name: ams-lb1\n    roles: [lb, dns]\n    state: drained\n']),
    classes: ['ams/ams-lb1 anycdn-healthcheck healthcheck-reload', 'ams/ams-lb1 keepalived keepalived-vip-move'],
  },
  {
    name: 'lb-model-undrain',
    texts: shipped(),
    base: edit(shipped(), ['sites/ams.yaml', '  - name: ams-lb1\n    roles: [lb, dns]\n', '  - name: ams-lb1\n    roles: [lb, dns]\n    state: drained\n']),
    classes: ['ams/ams-lb1 anycdn-healthcheck healthcheck-reload', 'ams/ams-lb1 keepalived keepalived-vip-move'],
  },
  {
    name: 'dns-ttl',
    // The shipped sites, whose checkers carry Knot's answer TTL for a site drain: a reload, on 6 hosts.
    texts: edit(shippedTexts(), ['sites/cdn.yaml', '  ttlSec: 60\n', '  ttlSec: 120\n']),
    base: shippedTexts(),
    classes: [
      'ams/ams-lb1 anycdn-healthcheck healthcheck-reload',
      'ams/ams-lb1 knot knot-zone-reload',
      'ams/ams-lb2 anycdn-healthcheck healthcheck-reload',
      'ams/ams-lb2 knot knot-zone-reload',
      'nyc/nyc-lb1 anycdn-healthcheck healthcheck-reload',
      'nyc/nyc-lb1 knot knot-zone-reload',
      'nyc/nyc-lb2 anycdn-healthcheck healthcheck-reload',
      'nyc/nyc-lb2 knot knot-zone-reload',
      'sin/sin-lb1 anycdn-healthcheck healthcheck-reload',
      'sin/sin-lb1 cloud-interruption',
      'sin/sin-lb1 knot knot-zone-reload',
      'sin/sin-lb2 anycdn-healthcheck healthcheck-reload',
      'sin/sin-lb2 cloud-interruption',
      'sin/sin-lb2 knot knot-zone-reload',
    ],
  },
  {
    name: 'new-cache-scraped',
    // The shipped sites, with monitoring: Prometheus reloads its scrape config, after the new cache exists.
    texts: edit(shippedTexts(), ['sites/nyc.yaml', '    address: 198.51.100.86\n', '    address: 198.51.100.86\n  - name: nyc-cache3\n    roles: [cache]\n    cacheEngine: squid\n    address: 198.51.100.87\n']),
    base: shippedTexts(),
    classes: ['monitoring/prometheus prometheus prometheus-reload', 'nyc/nyc-cache3 host-add', 'nyc/nyc-lb1 haproxy haproxy-reload', 'nyc/nyc-lb2 haproxy haproxy-reload'],
  },
  {
    name: 'shield',
    texts: edit(shipped(), ['sites/cdn.yaml', 'shield: ams', 'shield: nyc']),
    classes: [
      'ams/ams-cache1 nginx nginx-reload',
      'ams/ams-cache2 nginx nginx-reload',
      'nyc/nyc-cache1 squid squid-reconfigure',
      'nyc/nyc-cache2 squid squid-reconfigure',
      'sin/sin-cache1 cloud-interruption',
      'sin/sin-cache1 nginx nginx-reload',
      'sin/sin-cache2 cloud-interruption',
      'sin/sin-cache2 nginx nginx-reload',
    ],
  },
  {
    // A replica bucket after the origin: every cache reloads (nginx) or reconfigures (Squid), each
    // keeping its cache; the aws site's caches get it through their bundle.
    name: 'origin-replica',
    texts: edit(shipped(), ['sites/cdn.yaml', 'origin:\n  s3:\n    bucket: anycdn-example-images\n    region: eu-west-1\n', 'origin:\n  - s3: { bucket: anycdn-example-images, region: eu-west-1 }\n  - s3: { bucket: anycdn-example-images-replica, region: eu-central-1 }\n']),
    classes: [
      'ams/ams-cache1 nginx nginx-reload',
      'ams/ams-cache2 nginx nginx-reload',
      'nyc/nyc-cache1 squid squid-reconfigure',
      'nyc/nyc-cache2 squid squid-reconfigure',
      'sin/sin-cache1 cloud-interruption',
      'sin/sin-cache1 nginx nginx-reload',
      'sin/sin-cache2 cloud-interruption',
      'sin/sin-cache2 nginx nginx-reload',
    ],
  },
  {
    name: 'tls-certificate-path',
    texts: edit(shipped(), ['sites/ams.yaml', 'certPath: /etc/haproxy/certs/img.cdn.example.net.pem', 'certPath: /etc/haproxy/certs/img-2027.pem']),
    // The config reloads hitlessly; the install program's new path says the PEM goes there first.
    classes: ['ams/ams-lb1 haproxy file-only', 'ams/ams-lb1 haproxy haproxy-reload', 'ams/ams-lb2 haproxy file-only', 'ams/ams-lb2 haproxy haproxy-reload'],
  },
  {
    name: 'hash-balance-factor',
    // Bounded loads are a backend setting: both lb hosts reload, hitlessly; no cache is touched.
    texts: edit(shipped(), ['sites/ams.yaml', 'haproxy:\n  https:', 'haproxy:\n  hashBalanceFactor: 125\n  https:']),
    classes: ['ams/ams-lb1 haproxy haproxy-reload', 'ams/ams-lb2 haproxy haproxy-reload'],
  },
];

describe('a model edit gets the impact class of what it changes', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const plan = planOf(c.texts, undefined, c.base);
      expect(plan.changes).toBe(true);
      expect(classLines(plan)).toEqual(c.classes);
      await expect(`${formatPlan(plan, false).join('\n')}\n`).toMatchFileSnapshot(`golden/${c.name}.txt`);
    });
  }

  it('colour is the same text with ANSI codes around it', () => {
    const plan = planOf(cases[0]!.texts);
    const coloured = formatPlan(plan, true);
    expect(coloured.some((l) => l.includes('\u001b[31m-\tneighbor 198.51.100.1 as 64501;'))).toBe(true);
    // eslint-disable-next-line no-control-regex
    expect(coloured.map((l) => l.replace(/\u001b\[[0-9;]*m/g, ''))).toEqual(formatPlan(plan, false));
    expect(formatPlan(plan, false).some((l) => l.includes('\u001b'))).toBe(false);
  });

  it('an unchanged model: no changes, no steps', () => {
    const plan = planOf(shipped());
    expect(plan.changes).toBe(false);
    expect(plan.sites).toEqual([]);
    expect(plan.steps).toEqual([]);
    expect(formatPlan(plan, false)).toEqual(['anycdn plan: against the pinned example model', '', 'No changes. The rendered hosts match the baseline.', 'Cloud stacks not compared: not compared in this test.']);
  });
});
