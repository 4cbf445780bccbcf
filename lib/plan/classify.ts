// Impact of one changed file, from the statements that changed in it (lib/plan/statements.ts).
// Each classifier gets the file's text before and after ('' for a file that is new or gone) and
// returns one impact per reason, most specific first. Which classifier reads a file is decided by
// its path on the host (lib/plan/owners.ts); what class it returns depends only on what changed.
import type { ImpactClass } from './impact.ts';
import { braceStatements, describe, diffStatements, lineStatements, sectionStatements, type Statement } from './statements.ts';
import { serialGreater, VRRP_DRAIN_TRACK } from '../render/index.ts';
import { describeRingChange, ringChangeOf } from './ring.ts';

export interface Impact {
  class: ImpactClass;
  /** What changed that has this impact, in the daemon's own words. */
  reason: string;
  /**
   * An lb host drained or undrained in the model: applied with the runtime drain's steps for its
   * lb role (`anycdn drain <site>/<host> --role lb --apply`), in their order, as the steps say.
   */
  drain?: 'drain' | 'undrain';
}

/** Zone files: their SOA serials, as the render (or the baseline's manifest) records them, never read back from the text. */
export interface Serials {
  before?: number | undefined;
  after?: number | undefined;
}

export type Classifier = (before: string, after: string, serials?: Serials) => Impact[];

type Signed = { sign: '+' | '-'; s: Statement };

function changed(read: (t: string) => Statement[], before: string, after: string): Signed[] {
  const d = diffStatements(read(before), read(after));
  return [...d.removed.map((s): Signed => ({ sign: '-', s })), ...d.added.map((s): Signed => ({ sign: '+', s }))];
}

/** Blocks (by their outermost header) that exist on only one side: whole protocols, instances. */
function wholeBlocks(read: (t: string) => Statement[], before: string, after: string): { gone: Set<string>; fresh: Set<string> } {
  const heads = (t: string) => new Set(read(t).map((s) => s.block[0]).filter((b): b is string => b !== undefined));
  const b = heads(before);
  const a = heads(after);
  return { gone: new Set([...b].filter((h) => !a.has(h))), fresh: new Set([...a].filter((h) => !b.has(h))) };
}

/** One impact per distinct (class, reason), in first-seen order. */
function unique(impacts: Impact[]): Impact[] {
  const seen = new Set<string>();
  return impacts.filter((i) => {
    const k = `${i.class}\u0000${i.reason}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const line = (c: Signed) => `${c.sign} ${describe(c.s)}`;

/**
 * bird 2.0: `configure` re-reads everything; a BGP protocol whose options changed (neighbour, ASN,
 * password, timers, BFD, source address) is restarted, one whose channel filters changed is only
 * re-exported. A changed template restarts every protocol built from it; a new router id, all.
 */
export const classifyBird: Classifier = (before, after) => {
  const read = (t: string) => braceStatements(t, false);
  const { gone, fresh } = wholeBlocks(read, before, after);
  const out: Impact[] = [];
  for (const c of changed(read, before, after)) {
    const head = c.s.block[0] ?? '';
    if (fresh.has(head) || gone.has(head)) {
      const what = /^protocol bgp /.test(head) ? `BGP session ${head.split(' ')[2]} ${fresh.has(head) ? 'starts' : 'ends'}` : `${head} ${fresh.has(head) ? 'added' : 'removed'}`;
      out.push({ class: 'bird-configure', reason: what });
    } else if (/^(protocol|template) bgp\b/.test(head)) {
      const channelFilter = c.s.block.length >= 2 && /^ipv[46]\b/.test(c.s.block[1]!) && /^(import|export)\b/.test(c.s.text);
      const label = c.s.block.length === 1 && /^description\b/.test(c.s.text);
      out.push({ class: channelFilter || label ? 'bird-configure' : 'bird-session-reset', reason: line(c) });
    } else if (c.s.block.length === 0 && /^router id\b/.test(c.s.text)) {
      out.push({ class: 'bird-session-reset', reason: `${line(c)}: every session restarts` });
    } else {
      out.push({ class: 'bird-configure', reason: line(c) });
    }
  }
  return unique(out);
};

/** keepalived 2.2: HUP keeps an instance's state unless what identifies it or its VIP changes. */
const VRRP_IDENTITY = /^(virtual_router_id|priority|interface|unicast_src_ip|state)\b/;
const DRAIN_TRACK = `vrrp_track_file ${VRRP_DRAIN_TRACK}`;
const DRAINED_INIT = 'init_file 1 overwrite';
export const classifyKeepalived: Classifier = (before, after) => {
  const read = (t: string) => braceStatements(t, true);
  const { gone, fresh } = wholeBlocks(read, before, after);
  const out: Impact[] = [];
  // The drain track file's init value: 1 at every start while the host is drained in the model. A
  // reload never writes a track file that exists (keepalived 2.2), so a model drain is applied as
  // the runtime drain is: in its order, with its hold of new connections, and the flag written.
  const drainedIn = (t: string) => read(t).some((x) => x.block[0] === DRAIN_TRACK && x.text === DRAINED_INIT);
  const [was, now] = [before !== '' && drainedIn(before), after !== '' && drainedIn(after)];
  if (before !== '' && after !== '' && was !== now) {
    out.push(
      now
        ? { class: 'keepalived-vip-move', reason: `drained in the model (${DRAINED_INIT} in ${DRAIN_TRACK}): the VIP goes to the peer in the runtime drain's order (new connections wait, new requests are refused before any byte, the responses under way finish), and the host stays in FAULT at every start`, drain: 'drain' }
        : { class: 'keepalived-vip-move', reason: `undrained in the model (init_file 0 in ${DRAIN_TRACK}): the runtime undrain clears the drain flags, and this host may take the VIP back (preempt)`, drain: 'undrain' },
    );
  }
  for (const c of changed(read, before, after)) {
    const head = c.s.block[0] ?? '';
    if (out.length && head === DRAIN_TRACK && /^init_file\b/.test(c.s.text)) continue;
    const inInstance = /^vrrp_instance\b/.test(head);
    const vipBlock = c.s.block.slice(1).some((b) => /^(virtual_ipaddress|unicast_peer)\b/.test(b));
    const move =
      (inInstance && (fresh.has(head) || gone.has(head) || vipBlock || (c.s.block.length === 1 && VRRP_IDENTITY.test(c.s.text)))) ||
      (head === 'global_defs' && /^vrrp_version\b/.test(c.s.text));
    out.push({ class: move ? 'keepalived-vip-move' : 'keepalived-reload', reason: line(c) });
  }
  return unique(out);
};

/**
 * nginx 1.22: HUP re-reads everything. A cache zone keeps its cache across a reload when its name,
 * size, path and levels stay (nginx then takes the old zone over, and refuses another path or
 * levels for it); anything else of proxy_cache_path (max_size, inactive, ...) is a reload.
 */
export const classifyNginx: Classifier = (before, after) => {
  const cs = changed((t) => braceStatements(t, false), before, after);
  const cachePath = (c: Signed) => (/^proxy_cache_path\b/.test(c.s.text) ? cacheIdentity(c.s.text) : undefined);
  const kept = new Set<string>();
  for (const c of cs) {
    const id = cachePath(c);
    if (id && c.sign === '-' && cs.some((o) => o.sign === '+' && cachePath(o) === id)) kept.add(id);
  }
  return unique(
    cs.map((c) => {
      const id = cachePath(c);
      if (id !== undefined && kept.has(id)) return { class: 'nginx-reload', reason: `${line(c)}: the cache is kept (same zone, path and levels)` };
      return { class: nginxClass(c), reason: line(c) };
    }),
  );
};

function nginxClass(c: Signed): ImpactClass {
  return /^proxy_cache_path\b/.test(c.s.text) ? 'nginx-restart-cache-loss' : 'nginx-reload';
}

/** What makes a cache the same cache across a reload: its path, levels and zone (name:size). */
function cacheIdentity(text: string): string {
  const words = text.split(' ');
  return [words[1], words.find((w) => w.startsWith('levels=')) ?? 'levels=', words.find((w) => w.startsWith('keys_zone=')) ?? ''].join(' ');
}

/** squid 5.7: reconfigure re-reads everything but cache_dir, which needs squid -z and a restart. */
export const classifySquid: Classifier = (before, after) =>
  unique(changed(lineStatements, before, after).map((c) => ({ class: /^cache_dir\b/.test(c.s.text) ? 'squid-restart-rebuild' : 'squid-reconfigure', reason: line(c) })));

/**
 * haproxy 2.6 in master-worker mode: every change is a hitless reload. A change of the caches'
 * ring also says which share of the images changes cache (lib/plan/ring.ts), and one that moves a
 * cache that stays (a new id or weight) is a ring move: those images start cold on their new cache.
 */
export const classifyHaproxy: Classifier = (before, after) => {
  const out: Impact[] = changed(sectionStatements, before, after).map((c) => ({ class: 'haproxy-reload', reason: line(c) }));
  const r = before && after ? ringChangeOf(before, after) : undefined;
  if (r && r.change.moved > 0) out.unshift({ class: r.change.between > 0 ? 'haproxy-ring-move' : 'haproxy-reload', reason: describeRingChange(r) });
  return unique(out);
};

/** knot 3.2: `knotc reload` applies everything but the server section (listen addresses, ...). */
export const classifyKnotConf: Classifier = (before, after) =>
  unique(changed(sectionStatements, before, after).map((c) => ({ class: c.s.block[0] === 'server' ? 'knot-restart' : 'knot-reload', reason: line(c) })));

/**
 * The SOA serial of a zone file anycdn did not render (a baseline directory of files pulled from
 * hosts), or undefined when it has no SOA record anycdn can read. A render records its serials.
 */
export function soaSerial(zone: string): number | undefined {
  const m = /^\S+\s+\d+\s+IN\s+SOA\s+\S+\s+\S+\s+(\d+)\s/m.exec(zone);
  return m ? Number(m[1]) : undefined;
}

const zoneRecords = (t: string): Statement[] =>
  t
    .split('\n')
    .map((l) => l.replace(/;.*$/, '').replace(/\s+/g, ' ').trim())
    .filter((l) => l && !/ IN SOA /.test(l))
    .map((l) => ({ block: [], text: l }));

/** A zone's records changed: zone reload, and the SOA serial must rise (RFC 1982). */
export const classifyZone: Classifier = (before, after, serials = {}) => {
  const out: Impact[] = changed(zoneRecords, before, after).map((c) => ({ class: 'knot-zone-reload', reason: line(c) }));
  const { before: b, after: a } = serials;
  if (a !== undefined && b !== undefined && a !== b) out.push({ class: 'knot-zone-reload', reason: `SOA serial ${b} -> ${a}` });
  if (out.length === 0 && before !== after) out.push({ class: 'knot-zone-reload', reason: 'comments or layout only' });
  return out;
};

/** Why a zone change would not reach a resolver cleanly: content changed but the serial did not rise. */
export function serialProblem(before: string, after: string, serials: Serials): string | undefined {
  if (!before || !after || changed(zoneRecords, before, after).length === 0) return undefined;
  const { before: b, after: a } = serials;
  if (a === undefined || b === undefined) return undefined;
  return serialGreater(a, b) ? undefined : `the records changed but the SOA serial went ${b} -> ${a}; it must rise`;
}

const iniStatements = (t: string): Statement[] => {
  const out: Statement[] = [];
  let section = '';
  for (const raw of t.split('\n')) {
    const l = raw.replace(/^\s*[#;].*$/, '').trim();
    if (!l) continue;
    if (/^\[.*\]$/.test(l)) section = l;
    else out.push({ block: [section], text: l.replace(/\s+/g, ' ') });
  }
  return out;
};

/** A unit file: daemon-reload, then a restart of the unit. */
export const classifyUnit: Classifier = (before, after) => unique(changed(iniStatements, before, after).map((c) => ({ class: 'unit-restart', reason: line(c) })));

export const classifySysctl: Classifier = (before, after) => unique(changed(lineStatements, before, after).map((c) => ({ class: 'sysctl-apply', reason: line(c) })));

/** A file whose change has one class, whatever changed in it (a program, a script). */
export function fixed(cls: ImpactClass, reason: string): Classifier {
  return (before, after) => (before === after ? [] : [{ class: cls, reason }]);
}

/** Leaf values of a JSON document by dotted path (arrays whole), for a field-by-field diff. */
function leaves(v: unknown, path = '', out = new Map<string, string>()): Map<string, string> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) leaves(x, path ? `${path}.${k}` : k, out);
  else out.set(path, JSON.stringify(v));
  return out;
}

const drainWords = (scope: string, delay: string): string =>
  ({
    host: `the checker drains this host: the graceful-shutdown community first, withdrawn ${delay} s later (drain.withdrawAfterSec); the site's other dns hosts keep announcing`,
    site: `the checker drains the site: Knot answers the fallback site's VIP, the graceful-shutdown community first, withdrawn ${delay} s later (drain.withdrawAfterSec)`,
    none: 'the drain ends: the checker announces again as its probes say',
  })[scope] ?? 'a new drain scope';

/** Two JSON configs as their leaves, and the keys whose value differs; undefined when either does not parse. */
function leafChanges(before: string, after: string): { b: Map<string, string>; a: Map<string, string>; changed: string[] } | undefined {
  let b: Map<string, string>;
  let a: Map<string, string>;
  try {
    b = leaves(JSON.parse(before));
    a = leaves(JSON.parse(after));
  } catch {
    return undefined;
  }
  return { b, a, changed: [...new Set([...b.keys(), ...a.keys()])].filter((k) => b.get(k) !== a.get(k)) };
}

/**
 * The health checker's config. A reload (SIGHUP) takes the drain settings (drained, the delay) and
 * Knot's (the answer's TTL): a model drain begins gracefully, and a TTL change needs no withdrawal.
 * Anything else (probes, prefixes, the request file, the fallback answers) needs a restart, which
 * withdraws this host until `rise` good probes.
 */
export const classifyHealthcheckConf: Classifier = (before, after) => {
  if (before === after) return [];
  const parsed = leafChanges(before, after);
  if (!parsed) return [{ class: 'healthcheck-restart', reason: 'the health checker config' }];
  const { b, a, changed } = parsed;
  const knotBoth = [...b.keys()].some((k) => k.startsWith('drain.knot.')) && [...a.keys()].some((k) => k.startsWith('drain.knot.'));
  const reloadable = (k: string) => k === 'drain.drained' || k === 'drain.withdrawAfterSec' || (knotBoth && k.startsWith('drain.knot.'));
  const out: Impact[] = [];
  for (const k of changed) {
    const [x, y] = [b.get(k), a.get(k)];
    const what = `${k}: ${x ?? '(none)'} -> ${y ?? '(none)'}`;
    if (!reloadable(k) || x === undefined || y === undefined) out.push({ class: 'healthcheck-restart', reason: what });
    else if (k === 'drain.drained') out.push({ class: 'healthcheck-reload', reason: `${what}: ${drainWords(JSON.parse(y) as string, a.get('drain.withdrawAfterSec') ?? '?')}` });
    else out.push({ class: 'healthcheck-reload', reason: what });
  }
  return out.length ? out : [{ class: 'healthcheck-reload', reason: 'the health checker config (layout only)' }];
};

/**
 * The thumbnailer's config. A reload (SIGHUP) takes everything but where it listens: new settings
 * and workers (widths, formats, qualities, limits, where it reads originals). A new listen address
 * or port, or a new connection limit, needs a restart (the program refuses it on a reload and keeps running on the old one).
 */
export const classifyThumbnailerConf: Classifier = (before, after) => {
  if (before === after) return [];
  const parsed = leafChanges(before, after);
  if (!parsed) return [{ class: 'thumbnailer-restart', reason: 'the thumbnailer config' }];
  const { b, a, changed } = parsed;
  const out: Impact[] = [];
  for (const k of changed) {
    const [x, y] = [b.get(k), a.get(k)];
    if (k === '//') continue;
    out.push({ class: k.startsWith('listen.') || k === 'maxConnections' || x === undefined || y === undefined ? 'thumbnailer-restart' : 'thumbnailer-reload', reason: `${k}: ${x ?? '(none)'} -> ${y ?? '(none)'}` });
  }
  return out.length ? out : [{ class: 'thumbnailer-reload', reason: 'the thumbnailer config (layout only)' }];
};
