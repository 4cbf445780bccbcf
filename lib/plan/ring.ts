// The caches' ring in a rendered haproxy.cfg, read back as haproxy reads it, and what a change of
// it moves (lib/render/haproxy-ring.ts computes the arcs exactly as haproxy 2.6 places and looks
// up its points). The plan names the share of the images that change cache.
import { BACKEND, buildRing, ringChange, type RingChange, type RingServer, type UriBalance } from '../render/index.ts';

export interface BackendRing {
  balance: UriBalance;
  servers: RingServer[];
}

/**
 * The consistent-hash ring of `backend <name>` in a haproxy.cfg, or undefined when it has no such
 * backend or it does not hash URIs consistently. Servers without an `id` are numbered as haproxy
 * numbers them: the lowest id no other server of the backend uses, in the order they are declared.
 */
export function backendRing(cfg: string, name: string = BACKEND): BackendRing | undefined {
  const lines = sectionLines(cfg, name);
  if (!lines) return undefined;
  const words = lines.map((l) => l.split(/\s+/));
  const balance = words.find((w) => w[0] === 'balance');
  const hashType = words.find((w) => w[0] === 'hash-type');
  if (balance?.[1] !== 'uri' || hashType?.[1] !== 'consistent') return undefined;
  let defaultWeight = 1;
  const declared: { name: string; id?: number; weight: number }[] = [];
  for (const w of words) {
    const opt = (key: string) => {
      const i = w.indexOf(key, 3);
      return i > 0 ? w[i + 1] : undefined;
    };
    if (w[0] === 'default-server') {
      const i = w.indexOf('weight');
      if (i > 0) defaultWeight = Number(w[i + 1]);
    }
    if (w[0] !== 'server' || w.includes('backup') || w.includes('disabled')) continue;
    const id = opt('id');
    const weight = opt('weight');
    declared.push({ name: w[1]!, ...(id !== undefined ? { id: Number(id) } : {}), weight: weight !== undefined ? Number(weight) : defaultWeight });
  }
  const used = new Set(declared.map((s) => s.id).filter((id): id is number => id !== undefined));
  let next = 1;
  const servers = declared.map((s): RingServer => {
    if (s.id !== undefined) return { name: s.name, id: s.id, weight: s.weight };
    while (used.has(next)) next++;
    used.add(next);
    return { name: s.name, id: next, weight: s.weight };
  });
  return { balance: { whole: balance.includes('whole'), pathOnly: balance.includes('path-only') }, servers };
}

/** The keyword lines of one section, comments and blanks left out. */
function sectionLines(cfg: string, name: string): string[] | undefined {
  const out: string[] = [];
  let inside = false;
  let found = false;
  for (const raw of cfg.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    if (!/^\s/.test(raw)) {
      inside = line === `backend ${name}`;
      found ||= inside;
      continue;
    }
    if (inside) out.push(line);
  }
  return found ? out : undefined;
}

/** What a change of the caches backend moves on the ring, or undefined when neither side hashes. */
export function ringChangeOf(before: string, after: string): { change: RingChange; before: BackendRing; after: BackendRing } | undefined {
  const b = backendRing(before);
  const a = backendRing(after);
  if (!b || !a) return undefined;
  return { change: ringChange(buildRing(b.servers), buildRing(a.servers)), before: b, after: a };
}

const pct = (x: number) => `${(Math.round(x * 1000) / 10).toFixed(1)}%`;

/** The servers of both rings whose points moved: a new id or a new non-zero weight. */
export function movedServers(b: BackendRing, a: BackendRing): string[] {
  return a.servers
    .filter((s) => s.weight > 0)
    .filter((s) => {
      const was = b.servers.find((x) => x.name === s.name);
      return was !== undefined && was.weight > 0 && (was.id !== s.id || was.weight !== s.weight);
    })
    .map((s) => {
      const was = b.servers.find((x) => x.name === s.name)!;
      return was.id !== s.id ? `${s.name} id ${was.id} -> ${s.id}` : `${s.name} weight ${was.weight} -> ${s.weight}`;
    });
}

/** One line for the plan: the share of the images that change cache, and why. */
export function describeRingChange(r: NonNullable<ReturnType<typeof ringChangeOf>>): string {
  const c = r.change;
  const parts: string[] = [];
  for (const [name, share] of [...c.left].sort()) parts.push(`${pct(share)} leave ${name}`);
  for (const [name, share] of [...c.joined].sort()) parts.push(`${pct(share)} go to ${name}, which starts cold`);
  const moved = movedServers(r.before, r.after);
  parts.push(
    c.between > 0
      ? `${pct(c.between)} move between caches that stay${moved.length ? ` (moved on the ring: ${moved.join(', ')})` : ''}: they start cold on their new cache`
      : 'none move between the caches that stay',
  );
  return `ring: ${pct(c.moved)} of the images change cache: ${parts.join('; ')}`;
}
