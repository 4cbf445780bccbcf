// Each drained state as rendered (state: drained on a site or a host): the zone answers with the
// fallback site's VIP, the health checker is told to drain, a drained cache has weight 0 in the
// consistent hash, a drained lb host sets its drain track file at every start. Then the real
// checkers on the whole drained tree.
import { describe, expect, it } from 'vitest';
import { checkFiles } from '../../lib/check/run.ts';
import { loadTexts } from '../../lib/model/load.ts';
import { haproxyConfig } from '../../lib/render/haproxy.ts';
import { renderHealthcheck } from '../../lib/render/healthcheck.ts';
import { renderKeepalived } from '../../lib/render/keepalived.ts';
import { renderKnot } from '../../lib/render/knot.ts';
import { renderTopology } from '../../lib/render/index.ts';
import { emitHaproxy } from '../../lib/render/syntax/haproxy.ts';
import type { Topology } from '../../lib/model/schema.ts';
import { missingBinary, missingRoot } from '../helpers/daemons.ts';
import { INLINE_CDN, inlineSite, section } from '../helpers/inline.ts';

/** Site tst (lb pair, both dns) and a second site oth to fall back to. `tstExtra` goes into tst's file. */
function twoSites(tstExtra = '', edit: (tst: string) => string = (x) => x): Topology {
  const tst = edit(inlineSite({ extra: tstExtra }).replace('  - name: tst-lb2\n    roles: [lb]', '  - name: tst-lb2\n    roles: [lb, dns]'));
  const oth = inlineSite()
    .replace('id: tst', 'id: oth')
    .replace('virtualRouterId: 7', 'virtualRouterId: 8')
    .replaceAll('192.0.2.', '198.51.100.')
    .replaceAll('tst-', 'oth-');
  return loadTexts([
    { file: 'sites/cdn.yaml', text: INLINE_CDN, global: true },
    { file: 'sites/oth.yaml', text: oth, global: false },
    { file: 'sites/tst.yaml', text: tst, global: false },
  ]);
}

const site = (t: Topology, id = 'tst') => t.sites.find((s) => s.id === id)!;
const host = (t: Topology, name: string) => site(t).hosts.find((h) => h.name === name)!;
const content = (files: { path: string; content: string }[], path: string) => files.find((f) => f.path === path)!.content;

describe('a drained site', () => {
  const drained = twoSites('state: drained\ndrain:\n  withdrawAfterSec: 30\n');
  const active = twoSites();

  it('answers the image host with the fallback site\'s VIP (the only other site, when there are two)', () => {
    const zone = (t: Topology) => content(renderKnot(t, site(t), host(t, 'tst-lb1')), '/etc/knot/zones/example.net.zone').split('\n').filter((l) => l.startsWith('img.example.net.'));
    expect(zone(active)).toEqual(['img.example.net.     60 IN A    192.0.2.10']);
    expect(zone(drained)).toEqual(['img.example.net.     60 IN A    198.51.100.10']);
  });

  it('tells every dns host\'s checker to drain the site, with the delay and the fallback Knot answers with', () => {
    for (const name of ['tst-lb1', 'tst-lb2']) {
      const c = JSON.parse(content(renderHealthcheck(drained, site(drained), host(drained, name)), '/usr/local/etc/anycdn/healthcheck.json'));
      expect(c.drain).toEqual({
        requestFile: '/run/anycdn/drain',
        withdrawAfterSec: 30,
        drained: 'site',
        fallback: '198.51.100.10',
        knot: { knotc: '/usr/sbin/knotc', conf: '/etc/knot/knot.conf', zone: 'example.net', name: 'img.example.net', ttlSec: 60 },
      });
      // The checker still expects this site's own VIP from a healthy Knot (and accepts the fallback).
      expect(c.dns.expect).toBe('192.0.2.10');
    }
    const a = JSON.parse(content(renderHealthcheck(active, site(active), host(active, 'tst-lb1')), '/usr/local/etc/anycdn/healthcheck.json'));
    expect(a.drain).toMatchObject({ drained: 'none', withdrawAfterSec: 60, fallback: '198.51.100.10' });
  });

  it('falls back to drain.fallbackSite when the model names it', () => {
    const t = twoSites('state: drained\ndrain:\n  fallbackSite: oth\n');
    expect(JSON.parse(content(renderHealthcheck(t, site(t), host(t, 'tst-lb1')), '/usr/local/etc/anycdn/healthcheck.json')).drain.fallback).toBe('198.51.100.10');
  });
});

describe('a drained host', () => {
  it('dns: its checker drains this host only (no zone change), the zone still answers this site\'s VIP', () => {
    const t = twoSites('', (s) => s.replace('    address: 192.0.2.11', '    address: 192.0.2.11\n    state: drained'));
    const c = JSON.parse(content(renderHealthcheck(t, site(t), host(t, 'tst-lb1')), '/usr/local/etc/anycdn/healthcheck.json'));
    expect(c.drain.drained).toBe('host');
    const other = JSON.parse(content(renderHealthcheck(t, site(t), host(t, 'tst-lb2')), '/usr/local/etc/anycdn/healthcheck.json'));
    expect(other.drain.drained).toBe('none');
    expect(content(renderKnot(t, site(t), host(t, 'tst-lb1')), '/etc/knot/zones/example.net.zone')).toContain('img.example.net.     60 IN A    192.0.2.10\n');
  });

  it('cache: weight 0 takes it out of the consistent hash; the other caches keep their weight', () => {
    const t = twoSites('', (s) => s.replace('    address: 192.0.2.22', '    address: 192.0.2.22\n    state: drained'));
    const cfg = emitHaproxy(haproxyConfig(t, site(t), host(t, 'tst-lb1'))).join('\n');
    expect(section(cfg, 'backend caches').split('\n').filter((l) => /^\t(server|balance|hash-type)/.test(l))).toEqual([
      '\tbalance uri path-only',
      '\thash-type consistent',
      '\tserver tst-cache1 192.0.2.21:80 id 63161',
      '\tserver tst-cache2 192.0.2.22:80 id 62726 weight 0',
    ]);
  });

  it('cache with mixed engines: the serving server gets weight 0, its health check stays', () => {
    const t = twoSites('', (s) => s.replace('    cacheEngine: nginx\n    address: 192.0.2.22', '    cacheEngine: squid\n    address: 192.0.2.22\n    state: drained'));
    const cfg = emitHaproxy(haproxyConfig(t, site(t), host(t, 'tst-lb1'))).join('\n');
    expect(cfg.split('\n').filter((l) => l.startsWith('\tserver '))).toEqual([
      '\tserver tst-cache1 192.0.2.21:80 track check-nginx/tst-cache1 id 63161',
      '\tserver tst-cache2 192.0.2.22:80 track check-squid/tst-cache2 id 62726 weight 0',
      // the check backends: health checks only, no traffic, so no weight to take away
      '\tserver tst-cache1 192.0.2.21:80',
      '\tserver tst-cache2 192.0.2.22:80',
    ]);
  });

  it('lb: its drain track file is set to 1 at every start (FAULT: the peer holds the VIP); the peer\'s starts at 0', () => {
    const t = twoSites('', (s) => s.replace('    address: 192.0.2.12', '    address: 192.0.2.12\n    state: drained'));
    const conf = (name: string) => content(renderKeepalived(t, site(t), host(t, name)), '/etc/keepalived/keepalived.conf');
    expect(section(conf('tst-lb2'), 'vrrp_track_file anycdn_drain {')).toBe(
      ['vrrp_track_file anycdn_drain {', '\tfile "/run/anycdn/vrrp-drain"', '\tweight 0', '\tinit_file 1 overwrite', '}'].join('\n'),
    );
    expect(conf('tst-lb2')).toContain('# This host is drained (state: drained): 1 at every start, FAULT, the peer holds the VIP.');
    expect(section(conf('tst-lb1'), 'vrrp_track_file anycdn_drain {')).toBe(
      ['vrrp_track_file anycdn_drain {', '\tfile "/run/anycdn/vrrp-drain"', '\tweight 0', '\tinit_file 0', '}'].join('\n'),
    );
    expect(conf('tst-lb2')).toMatch(/\ttrack_file \{\n\t\thaproxy_stopped\n\t\tanycdn_drain\n\t\}/);
  });
});

const checkSkip =
  missingBinary('/usr/sbin/keepalived', 'keepalived') ??
  missingBinary('/usr/sbin/haproxy', 'haproxy') ??
  missingBinary('/usr/sbin/knotc', 'knot') ??
  missingBinary('/usr/bin/kzonecheck', 'knot-dnssecutils') ??
  missingRoot();

describe.skipIf(checkSkip)('the real checkers', () => {
  it('accept the tree of a drained site with a drained lb host and a drained cache', async () => {
    const t = twoSites('state: drained\n', (s) => s.replace('    address: 192.0.2.12', '    address: 192.0.2.12\n    state: drained').replace('    address: 192.0.2.22', '    address: 192.0.2.22\n    state: drained'));
    // With the files they read that have no checker of their own (haproxy's drain map).
    const files = renderTopology(t).filter((f) => f.site === 'tst' && (f.check === undefined || ['keepalived', 'haproxy', 'knot', 'zone', 'healthcheck', 'node'].includes(f.check)));
    const report = await checkFiles(files);
    expect(report.diagnostics).toEqual([]);
    expect(report.checked.filter((c) => !c.ok)).toEqual([]);
    expect(new Set(report.checked.map((c) => c.file.check))).toEqual(new Set(['keepalived', 'haproxy', 'knot', 'zone', 'healthcheck', 'node']));
  }, 60_000);
});
