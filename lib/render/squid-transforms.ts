// Derived images at Squid caches (images.transforms). Squid cannot resize, so a Squid cache never
// makes one: haproxy sends derived requests at a transforming site to its nginx caches, and a
// Squid cache elsewhere fetches them from the shield like any miss, and caches them like any
// image. The origin has no derived images, so they are never asked of it: while the shield fails
// a Squid cache answers a derived miss with an error (originals still fall back to the origin).
//
// With formats (images.transforms.formats) the shield answers derived images with Vary: Accept.
// Squid's rock store and shared memory cache do not store Vary-controlled replies, and in the lab
// Squid answered the first request of each such URL with its own 502 and every later one as a
// miss; so a Squid cache does not cache derived images then (`cache deny derived`): each one
// comes from the shield, whose nginx caches one copy per format.
import type { Topology } from '../model/schema.ts';
import { negotiates, transformsOf } from '../model/transforms.ts';
import { comment, directive as d, type SquidLine } from './syntax/squid.ts';

/** Before the parents' cache_peer_access lines: no origin parent ever gets a derived path. */
export function derivedPeerLines(t: Topology, originPeers: string[]): SquidLine[] {
  const tr = transformsOf(t);
  if (!tr) return [];
  return [
    comment(`Derived images (${tr.pathPrefix}/<width>/...) come from the shield only: the origin has none.`),
    d('acl', 'derived', 'urlpath_regex', `^${tr.pathPrefix}/`),
    ...originPeers.map((p) => d('cache_peer_access', p, 'deny', 'derived')),
    ...(negotiates(tr) ? [comment('negotiated formats (Vary: Accept), which the rock store does not keep: each from the shield, which caches one copy per format'), d('cache', 'deny', 'derived')] : []),
  ];
}
