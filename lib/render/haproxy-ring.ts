// haproxy 2.6's consistent-hash ring (`balance uri` + `hash-type consistent`), reimplemented so
// the plan can say which share of the images a change moves, and tests can predict where haproxy
// sends a URI. test/check/haproxy-ring.test.ts holds this model to a real haproxy.
//
// How haproxy 2.6 builds and reads the ring (src/lb_chash.c, src/backend.c, src/hash.c):
// - a server of weight w gets w * BE_WEIGHT_SCALE (16) points; point n sits at
//   full_hash(puid * SRV_EWGHT_RANGE + n), where puid is the server's id (the `id` keyword, or its
//   position in the backend when it has none) and SRV_EWGHT_RANGE = 256 * 16. Weight 0 (a drained
//   cache) puts no point on the ring. 2.6 has no `hash-key`: the id is all there is.
// - a request's key is sdbm over the URI (from the path's first '/' with `path-only`, up to the
//   '?' unless `whole`), then full_hash, since `hash-type consistent` avalanches by default;
// - the key goes to the nearest point either way round the ring; a tie goes to the point before.
// full_hash is a bijection of 32-bit integers, so distinct ids up to MAX_RING_ID
// (lib/model/ring-id.ts: their point inputs stay distinct and inside a C int) never share a point.

/** haproxy's BE_WEIGHT_SCALE: points per unit of server weight. */
export const POINTS_PER_WEIGHT = 16;
/** SRV_EWGHT_RANGE: the stride between the point inputs of consecutive ids. */
const EWGHT_RANGE = 256 * POINTS_PER_WEIGHT;
const SPACE = 2 ** 32;

/** Bob Jenkins' full-avalanche integer hash, times the prime haproxy spreads it with (full_hash()). */
export function fullHash(x: number): number {
  let a = x >>> 0;
  a = (a + 0x7ed55d16 + (a << 12)) >>> 0;
  a = (a ^ 0xc761c23c ^ (a >>> 19)) >>> 0;
  a = (a + 0x165667b1 + (a << 5)) >>> 0;
  a = (((a + 0xd3a2646c) >>> 0) ^ (a << 9)) >>> 0;
  a = (a + 0xfd7046c5 + (a << 3)) >>> 0;
  a = (a ^ 0xb55a4f09 ^ (a >>> 16)) >>> 0;
  return Math.imul(a, 3221225473) >>> 0;
}

/** hash_sdbm over bytes (unsigned chars). */
export function sdbm(bytes: Uint8Array): number {
  let h = 0;
  for (const c of bytes) h = (c + (h << 6) + (h << 16) - h) >>> 0;
  return h;
}

export interface UriBalance {
  /** `balance uri whole`: the query is part of the key. */
  whole: boolean;
  /** `balance uri path-only`: the key starts at the path's first '/' (absolute URIs lose scheme and authority). */
  pathOnly: boolean;
}

/** The ring key of a request URI, as get_server_uh() computes it with `hash-type consistent`. */
export function uriKey(uri: string, b: UriBalance): number {
  let u = uri;
  if (b.pathOnly && !u.startsWith('/')) {
    // http_get_path(): after "scheme://authority", or nothing when there is no path.
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*(\/.*)?$/.exec(u);
    u = m?.[1] ?? '';
  }
  if (!b.whole) u = u.split('?')[0]!;
  return fullHash(sdbm(Buffer.from(u, 'latin1')));
}

export interface RingServer {
  name: string;
  /** haproxy's puid: the server's `id`, or its position (1-based) when it has none. */
  id: number;
  /** The server's weight; 0 puts it off the ring. */
  weight: number;
}

/** The points of a ring, sorted by key, each with the server it belongs to. */
export interface Ring {
  keys: number[];
  owners: string[];
}

export function buildRing(servers: RingServer[]): Ring {
  const points: [number, string][] = [];
  for (const s of servers) {
    for (let n = 0; n < s.weight * POINTS_PER_WEIGHT; n++) points.push([fullHash(s.id * EWGHT_RANGE + n), s.name]);
  }
  points.sort((a, b) => a[0] - b[0]);
  return { keys: points.map((p) => p[0]), owners: points.map((p) => p[1]) };
}

/** The server a key goes to (chash_get_server_hash()), or undefined on an empty ring. */
export function lookup(ring: Ring, key: number): string | undefined {
  const k = ring.keys;
  if (k.length === 0) return undefined;
  let lo = 0;
  let hi = k.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (k[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  const next = lo === k.length ? 0 : lo;
  const prev = next === 0 ? k.length - 1 : next - 1;
  const dp = (key - k[prev]! + SPACE) % SPACE;
  const dn = (k[next]! - key + SPACE) % SPACE;
  return dp <= dn ? ring.owners[prev] : ring.owners[next];
}

/** The key space as arcs [start, next arc's start) with their server, from 0, covering 2^32. */
export function arcs(ring: Ring): { start: number; owner: string }[] {
  const k = ring.keys;
  if (k.length === 0) return [];
  if (new Set(ring.owners).size === 1) return [{ start: 0, owner: ring.owners[0]! }];
  // Between a point p and the next one q (unwrapped), keys up to floor((p + q) / 2) go to p.
  const raw: { start: number; owner: string }[] = [];
  for (let i = 0; i < k.length; i++) {
    const p = k[i]!;
    const q = i + 1 < k.length ? k[i + 1]! : k[0]! + SPACE;
    const mid = Math.floor((p + q) / 2);
    raw.push({ start: p, owner: ring.owners[i]! }, { start: mid + 1, owner: ring.owners[(i + 1) % k.length]! });
  }
  // Back into [0, 2^32): the arc that crosses 2^32 also covers the keys from 0.
  const folded = raw.map((a) => ({ start: a.start % SPACE, owner: a.owner })).sort((a, b) => a.start - b.start);
  const wrap = raw.filter((a) => a.start < SPACE).at(-1)!.owner;
  const out: { start: number; owner: string }[] = folded[0]!.start === 0 ? [] : [{ start: 0, owner: wrap }];
  for (const a of folded) {
    if (out.length && out.at(-1)!.start === a.start) out[out.length - 1] = a;
    else if (!out.length || out.at(-1)!.owner !== a.owner) out.push(a);
  }
  return out;
}

/** Each server's share of the key space (0..1). */
export function shares(ring: Ring): Map<string, number> {
  const out = new Map<string, number>();
  const a = arcs(ring);
  a.forEach((x, i) => out.set(x.owner, (out.get(x.owner) ?? 0) + ((a[i + 1]?.start ?? SPACE) - x.start) / SPACE));
  return out;
}

export interface RingChange {
  /** Keys whose server changes, as a share of all keys. */
  moved: number;
  /** Keys that move from one server on both rings to another: they start cold there. */
  between: number;
  /** Per server that leaves the ring (removed, or weight 0): the share it took with it. */
  left: Map<string, number>;
  /** Per server that joins the ring: the share it takes. */
  joined: Map<string, number>;
}

/** What changes between two rings, measured over the whole key space. */
export function ringChange(before: Ring, after: Ring): RingChange {
  const b = arcs(before);
  const a = arcs(after);
  const inBefore = new Set(before.owners);
  const inAfter = new Set(after.owners);
  const out: RingChange = { moved: 0, between: 0, left: new Map(), joined: new Map() };
  const starts = [...new Set([...b.map((x) => x.start), ...a.map((x) => x.start)])].sort((x, y) => x - y);
  let i = 0;
  let j = 0;
  starts.forEach((s, n) => {
    while (i + 1 < b.length && b[i + 1]!.start <= s) i++;
    while (j + 1 < a.length && a[j + 1]!.start <= s) j++;
    const from = b[i]?.owner;
    const to = a[j]?.owner;
    if (from === to) return;
    const len = ((starts[n + 1] ?? SPACE) - s) / SPACE;
    out.moved += len;
    if (from !== undefined && !inAfter.has(from)) out.left.set(from, (out.left.get(from) ?? 0) + len);
    else if (to !== undefined && !inBefore.has(to)) out.joined.set(to, (out.joined.get(to) ?? 0) + len);
    else out.between += len;
  });
  return out;
}
