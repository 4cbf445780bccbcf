// Format negotiation of derived images (lib/model/transforms.ts): the Accept header a client sends
// -> the one format key every cache keys on. The same pattern is what haproxy matches
// (haproxy-transforms.ts renders acceptPattern); the lab proves haproxy agrees (test/lab/formats.test.ts).
// The Accept strings are the ones real browsers send for <img> requests.
import { describe, expect, it } from 'vitest';
import { negotiate, type Transforms } from '../../lib/model/transforms.ts';
import { transformsOf } from '../../lib/model/transforms.ts';
import { loadEdited } from '../helpers/topology.ts';

export const BROWSER_ACCEPT = {
  chrome: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  firefox: 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  safari: 'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  oldEdge: 'image/png, image/svg+xml, image/*;q=0.8, */*;q=0.5',
  curl: '*/*',
} as const;

const tr = transformsOf(loadEdited())!;
const only = (formats: Transforms['formats']): Transforms => ({ ...tr, formats });

describe('Accept -> format', () => {
  it('the shipped order (avif, webp): browsers that name AVIF get it, the rest their named WebP or the original', () => {
    expect(tr.formats).toEqual(['avif', 'webp']);
    expect(Object.fromEntries(Object.entries(BROWSER_ACCEPT).map(([k, a]) => [k, negotiate(tr, a) ?? 'original']))).toEqual({
      chrome: 'avif',
      firefox: 'avif',
      // Safari lists WebP first, but the model's order decides: both are offered, AVIF is smaller
      safari: 'avif',
      oldEdge: 'original',
      curl: 'original',
    });
    expect(negotiate(tr, undefined)).toBeUndefined();
    expect(negotiate(tr, '')).toBeUndefined();
  });

  it('honours q=0 (in any spelling), and only q=0', () => {
    expect(negotiate(tr, 'image/avif;q=0,image/webp')).toBe('webp');
    expect(negotiate(tr, 'image/avif; q=0.0, image/webp;q=0.000')).toBeUndefined();
    expect(negotiate(tr, 'image/avif ;Q = 0 ,*/*')).toBeUndefined();
    expect(negotiate(tr, 'image/avif;q=0.1')).toBe('avif');
    expect(negotiate(tr, 'image/avif;q=0.01')).toBe('avif');
    expect(negotiate(tr, 'image/avif;q=1.0')).toBe('avif');
    expect(negotiate(tr, 'image/avif;level=1;q=0')).toBeUndefined();
  });

  it('a wildcard never counts, a type is matched whole and without case', () => {
    expect(negotiate(tr, 'image/*')).toBeUndefined();
    expect(negotiate(tr, 'image/avifx, image/webpp')).toBeUndefined();
    expect(negotiate(tr, 'x-image/avif')).toBeUndefined();
    expect(negotiate(tr, 'IMAGE/WEBP')).toBe('webp');
    expect(negotiate(tr, '  image/webp  ')).toBe('webp');
  });

  it('only the formats the model offers, in its order', () => {
    expect(negotiate(only(['webp']), BROWSER_ACCEPT.chrome)).toBe('webp');
    expect(negotiate(only(['webp', 'avif']), BROWSER_ACCEPT.chrome)).toBe('webp');
    expect(negotiate(only([]), BROWSER_ACCEPT.chrome)).toBeUndefined();
  });
});
