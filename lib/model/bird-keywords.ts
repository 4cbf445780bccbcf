// Words bird reserves that a model key could spell once it becomes a bird symbol. The model
// refuses such keys (rules/bird-names.ts) and the renderer's ident() asserts the same list
// (lib/render/syntax/bird.ts imports it from here: render may import model, never the reverse).

/**
 * bird keywords an ident() could spell: the BGP route attributes, `bgp_` plus a name a peer could
 * have (`path`, `next-hop`, ...). bird -p refuses each as a protocol name.
 */
export const BIRD_KEYWORDS: ReadonlySet<string> = new Set(
  ['aggregator', 'aigp', 'atomic_aggr', 'cluster_list', 'community', 'ext_community', 'large_community', 'local_pref', 'med', 'next_hop', 'origin', 'originator_id', 'otc', 'path'].map((a) => `bgp_${a}`),
);

/** The bird symbol a peer name becomes: `transit-1` -> `bgp_transit_1` (as render's ident('bgp', name)). */
export function birdPeerSymbol(name: string): string {
  return `bgp_${name.replace(/-/g, '_')}`;
}
