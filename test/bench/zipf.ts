// A seeded, deterministic Zipf request stream: request i asks for the image of popularity rank k
// with probability proportional to 1/k^s. Ranks map to image ids through a seeded permutation,
// so popularity says nothing about an image's id or size.

import { rng } from '../../lib/lab/images.ts';

export interface ZipfOptions {
  images: number;
  s: number;
  requests: number;
  seed: number;
}

/** Image ids (0..images-1), one per request. */
export function zipfStream(o: ZipfOptions): number[] {
  const cdf = new Float64Array(o.images);
  let sum = 0;
  for (let k = 0; k < o.images; k++) cdf[k] = sum += 1 / (k + 1) ** o.s;
  // A seeded permutation of ids: rank k is image perm[k]. The permutation depends on the image
  // count only, so every stream over the same images agrees on which are popular.
  const perm = Array.from({ length: o.images }, (_, i) => i);
  const shuffle = rng(0x5eed);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = Math.floor(shuffle() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const next = rng(o.seed);
  const out: number[] = new Array(o.requests);
  for (let r = 0; r < o.requests; r++) {
    const u = next() * sum;
    let lo = 0;
    let hi = o.images - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    out[r] = perm[lo]!;
  }
  return out;
}
