// Derived images at Squid caches (images.transforms). Squid cannot resize, so a Squid cache never
// makes one: haproxy sends derived requests at a transforming site to its nginx caches, and a
// Squid cache elsewhere fetches them from the shield like any miss, and caches them like any
// image. The origin has no derived images, so they are never asked of it: while the shield fails
// a Squid cache answers a derived miss with an error (originals still fall back to the origin).
import type { Topology } from '../model/schema.ts';
import { transformsOf } from '../model/transforms.ts';
import { comment, directive as d, type SquidLine } from './syntax/squid.ts';

/** Before the parents' cache_peer_access lines: no origin parent ever gets a derived path. */
export function derivedPeerLines(t: Topology, originPeers: string[]): SquidLine[] {
  const tr = transformsOf(t);
  if (!tr) return [];
  return [
    comment(`Derived images (${tr.pathPrefix}/<width>/...) come from the shield only: the origin has none.`),
    d('acl', 'derived', 'urlpath_regex', `^${tr.pathPrefix}/`),
    ...originPeers.map((p) => d('cache_peer_access', p, 'deny', 'derived')),
  ];
}
