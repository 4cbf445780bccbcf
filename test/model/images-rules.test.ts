// images.transforms (lib/model/schema-images.ts, lib/model/rules/images.ts) on edited copies of
// the shipped sites: every bad value is one FILE:LINE:COL line naming the field, the value and the
// fix, all of them at once.
import { describe, expect, it } from 'vitest';
import { InputError, formatDiagnostic } from '../../lib/model/errors.ts';
import { CACHE_OWN_PATHS } from '../../lib/model/rules/images.ts';
import { parseDerived, transformsAt, transformsOf } from '../../lib/model/transforms.ts';
import { CACHE_HEALTH } from '../../lib/render/cache-health.ts';
import { loadEdited } from '../helpers/topology.ts';

const SHIPPED = '  transforms:\n    widths: [64, 128, 256, 512]\n    formats: [avif, webp]\n';

/** The shipped model with its transforms section replaced by `body` (the lines under `images:`). */
const withTransforms = (body: string, also: (x: Record<string, string>) => void = () => {}) => (x: Record<string, string>) => {
  const cdn = x['sites/cdn.yaml']!;
  if (!cdn.includes(`images:\n${SHIPPED}`)) throw new Error('the shipped images section changed shape');
  x['sites/cdn.yaml'] = cdn.replace(`images:\n${SHIPPED}`, `images:\n${body}`);
  also(x);
};

function errors(edit: (x: Record<string, string>) => void): string[] {
  try {
    loadEdited(edit);
    return [];
  } catch (e) {
    if (e instanceof InputError) return e.diagnostics.map(formatDiagnostic);
    throw e;
  }
}

const noShield = (x: Record<string, string>) => {
  x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/\nshield: ams\n/, '\n');
};

describe('images.transforms', () => {
  it('the shipped model allows four widths under /_w, with the documented defaults', () => {
    const t = loadEdited();
    expect(transformsOf(t)).toEqual({
      widths: [64, 128, 256, 512],
      formats: ['avif', 'webp'],
      pathPrefix: '/_w',
      jpegQuality: 80,
      webpQuality: 80,
      avifQuality: 50,
      avifEffort: 2,
      maxSourceMiB: 16,
      maxSourceMegapixels: 40,
      timeoutSec: 10,
      workers: 2,
    });
    expect(t.sites.map((s) => [s.id, transformsAt(t, s)])).toEqual([
      ['ams', true],
      ['nyc', false],
      ['sin', false],
    ]);
  });

  it('accepts exactly the canonical URL form', () => {
    const tr = transformsOf(loadEdited())!;
    expect(parseDerived(tr, '/_w/256/img/a.png')).toEqual({ width: 256, source: '/img/a.png' });
    for (const bad of ['/_w/300/a.png', '/_w/0256/a.png', '/_w/256//a.png', '/_w/256/', '/_w/256', '/_w/64/_w/512/a.png', '/w/256/a.png', '/_w/+256/a.png']) {
      expect(parseDerived(tr, bad), bad).toBeUndefined();
    }
  });

  it.each([
    ['a width listed twice', '  transforms:\n    widths: [64, 128, 64]\n', ['sites/cdn.yaml:47:23: images.transforms.widths[2]: 64 is listed twice (also widths[0]); list each width once']],
    ['a width too small', '  transforms:\n    widths: [8, 128]\n', ['sites/cdn.yaml:47:14: images.transforms.widths[0]: must be 16..4096 pixels, got 8']],
    ['a width that is no integer', '  transforms:\n    widths: [64.5]\n', ['sites/cdn.yaml:47:14: images.transforms.widths[0]: must be a whole number of pixels, got 64.5']],
    ['no width', '  transforms:\n    widths: []\n', ['sites/cdn.yaml:47:5: images.transforms.widths: must list at least one width, such as [64, 128, 256, 512], got []']],
    ['a quality above 100', '  transforms:\n    widths: [64]\n    jpegQuality: 101\n', ['sites/cdn.yaml:48:18: images.transforms.jpegQuality: must be 1..100, got 101']],
    ['a prefix of two segments', '  transforms:\n    widths: [64]\n    pathPrefix: /a/b\n', ['sites/cdn.yaml:48:17: images.transforms.pathPrefix: must be one path segment of lowercase letters, digits, _ and -, such as /_w, got "/a/b"']],
    ['a prefix with a regex character', '  transforms:\n    widths: [64]\n    pathPrefix: "/a.*"\n', ['sites/cdn.yaml:48:17: images.transforms.pathPrefix: must be one path segment of lowercase letters, digits, _ and -, such as /_w, got "/a.*"']],
    ['the health path as prefix', '  transforms:\n    widths: [64]\n    pathPrefix: /healthz\n', ['sites/cdn.yaml:48:17: images.transforms.pathPrefix: /healthz would take /healthz, which the CDN answers itself; choose another prefix, such as /_w']],
    [
      "Squid's internal URLs as prefix",
      '  transforms:\n    widths: [64]\n    pathPrefix: /squid-internal-static\n',
      ['sites/cdn.yaml:48:17: images.transforms.pathPrefix: /squid-internal-static would take /squid-internal-static/, which the CDN answers itself; choose another prefix, such as /_w'],
    ],
  ])('refuses %s', (_what, body, lines) => {
    expect(errors(withTransforms(body))).toEqual(lines);
  });

  it('refuses a format offered twice, a format libvips is not asked to make, and limits out of range, all at once', () => {
    const lines = errors(withTransforms('  transforms:\n    widths: [64]\n    formats: [webp, avif, webp]\n    avifEffort: 10\n    workers: 0\n    timeoutSec: 500\n'));
    expect(lines).toEqual([
      'sites/cdn.yaml:48:5: images.transforms.formats: at most 2 formats: avif, webp, got ["webp","avif","webp"]',
      'sites/cdn.yaml:49:17: images.transforms.avifEffort: must be 0..9, got 10',
      'sites/cdn.yaml:50:14: images.transforms.workers: must be 1..16, got 0',
      'sites/cdn.yaml:51:17: images.transforms.timeoutSec: must be 1..120 seconds, got 500',
    ]);
    expect(errors(withTransforms('  transforms:\n    widths: [64]\n    formats: [jxl]\n'))).toEqual(['sites/cdn.yaml:48:15: images.transforms.formats[0]: must be one of avif, webp, got "jxl"']);
    expect(errors(withTransforms('  transforms:\n    widths: [64]\n    formats: [webp, webp]\n'))).toEqual(['sites/cdn.yaml:48:21: images.transforms.formats[1]: webp is listed twice (also formats[0]); list each format once']);
  });

  it('refuses a Squid-only site that would have to make derived images itself', () => {
    // Without a shield every site makes its own; nyc has only Squid caches.
    expect(errors(withTransforms(SHIPPED, noShield))).toEqual([
      'sites/nyc.yaml:30:1: hosts: site nyc has no active nginx cache, and there is no shield, so every site makes its own derived images; Squid cannot resize images: add a host with roles: [cache] and cacheEngine: nginx, or set shield: to a site with nginx caches',
    ]);
    // A Squid shield.
    const squidShield = (x: Record<string, string>) => {
      x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/\nshield: ams\n/, '\nshield: nyc\n');
    };
    expect(errors(withTransforms(SHIPPED, squidShield))).toEqual([
      'sites/nyc.yaml:30:1: hosts: site nyc has no active nginx cache, and it is the shield, where derived images are made; Squid cannot resize images: add a host with roles: [cache] and cacheEngine: nginx',
    ]);
    // Without transforms, the same model is fine.
    expect(errors((x) => {
      x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(`images:\n${SHIPPED}`, '');
      noShield(x);
    })).toEqual([]);
  });

  it("keeps the caches' own paths out of the prefix (the rule's list covers lib/render/cache-health.ts)", () => {
    for (const h of Object.values(CACHE_HEALTH)) expect(CACHE_OWN_PATHS.some((p) => h.path.startsWith(p)), h.path).toBe(true);
  });
});
