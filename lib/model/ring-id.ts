// Each cache's place on haproxy's consistent-hash ring: its server id. haproxy 2.6 places a server's
// points by its id alone (lib/render/haproxy-ring.ts), and numbers servers without one by their
// position in the backend, so a cache added or removed would renumber, and move, every cache
// after it. The id is the host's `ringId`, or one derived from its name, so it never depends on
// the other hosts: adding or removing a cache moves only that cache's share of the images.
import type { Host } from './schema.ts';

/**
 * The largest id haproxy can place exactly: point n of server id sits at full_hash(id * 4096 + n),
 * computed in a C int, which ids above 2^31 / 4096 - 1 overflow (and wrap onto other ids' points).
 */
export const MAX_RING_ID = 524287;

/** FNV-1a (32 bits) of the name's UTF-8 bytes, into 1..MAX_RING_ID. Renaming a host moves it. */
export function derivedRingId(name: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(name, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return 1 + (h % MAX_RING_ID);
}

/** The haproxy server id of a cache host: its `ringId`, else derived from its name. */
export function ringId(host: Pick<Host, 'name' | 'ringId'>): number {
  return host.ringId ?? derivedRingId(host.name);
}
