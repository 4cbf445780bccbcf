// The checker: probe rounds, verdicts per prefix, and the moves they ask for.
//
// Each anycast prefix is judged on its own. The service addresses stay on lo; what moves is the
// covering prefix (its network address with the prefix length, such as 192.0.2.0/24 on lo), which
// bird's direct protocol picks up and announces. A prefix's DNS verdict: the local server answers
// the image host with this site's addresses, over UDP and TCP, at each of the prefix's service
// addresses. The image path's verdict: the VIP serves the health path over each family it has.
// verdict.ts has the rules; this file runs them. It changes the lo addresses (one `ip -batch`) and
// tells bird (its control socket, no process) only on a transition, and puts the service addresses
// on lo once at start. A round allocates next to nothing and starts no process.
import { birdConfigure, birdText, ipBatch, writeAtomic, writeBirdFile } from './announce.ts';
import type { Announce, AnycastGroup, Config, DrainConfig } from './config.ts';
import { DnsProber } from './dns-probe.ts';
import { Drain } from './drain.ts';
import { HttpProber } from './http-probe.ts';
import { log } from './log.ts';
import { serveStatus } from './status.ts';
import { drainTarget, onLo, target, Verdict, worst } from './verdict.ts';

export interface CheckerHooks {
  /** The overall state (the worst prefix's), on each change. */
  onState?: (s: Announce) => void;
  /** A prefix's state, on each change. */
  onGroup?: (name: string, s: Announce) => void;
}

export interface Checker {
  /** Stops probing and withdraws. */
  stop(): Promise<void>;
  /** The overall state: the worst prefix's. */
  state(): Announce;
  /** Each prefix's state, by name. */
  groups(): Record<string, Announce>;
  /** Takes the drain settings of a reloaded config (SIGHUP): a model drain begins or ends, Knot's answer TTL (Drain.reload). */
  reloadDrain(d: DrainConfig | undefined): void;
}

/**
 * A round's result for a prefix (or the image path): good once each of its probers' rounds is,
 * bad at the first bad one. `left` and `over` are reset each round, so a round allocates nothing.
 */
interface Part {
  verdict: Verdict;
  left: number;
  over: boolean;
  size: number;
}

interface Group extends AnycastGroup {
  part: Part;
  verdict: Verdict;
  state: Announce;
}

const VERB: Record<Announce, string> = { withdrawn: 'withdraw', depreferred: 'deprefer', announced: 'announce', draining: 'drain (graceful shutdown)', drained: 'withdraw (drained)' };

/**
 * The checker. It changes lo and tells bird; `hooks.onState` hears the overall state (the worst
 * prefix's) and `hooks.onGroup` each prefix's. Returns a handle to stop it (it withdraws on stop).
 */
export function startChecker(c: Config, hooks: CheckerHooks = {}): Checker {
  const part = (size: number): Part => ({ verdict: new Verdict(c.rise, c.fall), left: size, over: true, size });
  const drain = new Drain(c.drain);
  // One prober per distinct service address, shared by the prefixes that use it: each address is
  // asked once per round over each transport, and every prefix behind it takes the result.
  const byAddress = new Map<string, { prober: DnsProber; parts: Part[] }>();
  const drainAnswers = { fallback: c.drain?.fallback, fallback6: c.drain?.fallback6 };
  const groups: Group[] = c.anycast.map((g) => {
    const addresses = [...new Set(g.addresses.map((a) => a.split('/')[0] ?? a))];
    const p = part(addresses.length);
    for (const a of addresses) {
      let entry = byAddress.get(a);
      if (!entry) {
        const parts: Part[] = [];
        entry = {
          prober: new DnsProber(c.dns, a, drainAnswers, (ok) => {
            for (const q of parts) partResult(q, ok);
          }),
          parts,
        };
        byAddress.set(a, entry);
      }
      entry.parts.push(p);
    }
    return { ...g, part: p, verdict: p.verdict, state: 'withdrawn' };
  });
  const probers = [...byAddress.values()].map((e) => e.prober);
  const webPart = part(1 + (c.http.url6 ? 1 : 0));
  const webs = [c.http.url, ...(c.http.url6 ? [c.http.url6] : [])].map((u) => new HttpProber(u, (ok) => partResult(webPart, ok)));
  const webVerdict = webPart.verdict;
  const parts = [...groups.map((g) => g.part), webPart];
  const ip = c.ipCommand ?? '/usr/sbin/ip';
  const overall = () => worst(groups.map((g) => g.state));
  let state = overall();
  let transitions = 0;
  /** What bird's announce file says (undefined: not written yet or bird not told). */
  let birdSays: string | undefined;
  let stopped = false;

  /** The announce file bird includes, and `configure` over bird's socket when it changed. */
  const tellBird = async (next: Announce[]): Promise<boolean> => {
    const says = birdText(next.includes('depreferred'), next.includes('draining'));
    if (!c.bird || birdSays === says) return true;
    writeBirdFile(c.bird.stateFile, says);
    const ok = await birdConfigure(c.bird.socket);
    if (ok) birdSays = says;
    return ok;
  };

  /** Each prefix's next state, as the verdicts and the drain want it. */
  const nextState = (g: Group, imageUp: boolean | undefined, phase: ReturnType<Drain['phase']>) => drainTarget(target(g.verdict.up, imageUp, c.onImagePathDown), g.state, phase);

  /** Moves every prefix to its next state: withdrawals first, then bird, then new announcements. */
  const apply = async (next: Announce[]) => {
    const nextOf = (g: Group) => next[groups.indexOf(g)] ?? 'withdrawn';
    const moving = groups.filter((g, i) => g.state !== next[i]);
    const gone = moving.filter((g) => onLo(g.state) && !onLo(nextOf(g)));
    const coming = moving.filter((g) => !onLo(g.state) && onLo(nextOf(g)));
    if (gone.length > 0) await ipBatch(ip, gone.flatMap((g) => g.prefixes.map((p) => `addr del ${p} dev lo`)));
    // The routes leave already tagged (depreferred, draining, or plain) before the prefixes appear on lo.
    if (next.some(onLo)) await tellBird(next);
    if (coming.length > 0) await ipBatch(ip, coming.flatMap((g) => g.prefixes.map((p) => `addr replace ${p} dev lo`)));
    for (const g of moving) {
      g.state = nextOf(g);
      log(`${VERB[g.state]} ${g.name}: ${g.prefixes.join(' ')} (dns ${g.verdict.up ? 'up' : 'down'}, image path ${webVerdict.up ? 'up' : 'down'})`);
      hooks.onGroup?.(g.name, g.state);
    }
    const now = overall();
    if (c.statusFile) writeAtomic(c.statusFile, `${now}\n`);
    if (now !== state) {
      state = now;
      transitions++;
      hooks.onState?.(state);
    }
  };

  /**
   * True when deciding now would change nothing: no decision in flight, Knot, every prefix and
   * bird as the verdicts want them. It allocates nothing, as it runs for every verdict of every
   * round; only a change goes through the queue below.
   */
  let deciding = 0;
  const nothingToDo = () => {
    if (deciding > 0) return false;
    if (!drain.knotSettled()) return false;
    const imageUp = webVerdict.known ? webVerdict.up : undefined;
    const phase = drain.phase();
    let on = false;
    let deprefer = false;
    let draining = false;
    for (const g of groups) {
      const n = nextState(g, imageUp, phase);
      if (n !== g.state) return false;
      on ||= onLo(n);
      deprefer ||= n === 'depreferred';
      draining ||= n === 'draining';
    }
    return !on || !c.bird || birdSays === birdText(deprefer, draining);
  };

  const decideNow = async () => {
    if (stopped) return;
    // DNS first: resolvers that still reach this site learn the fallback before routes move.
    await drain.steerKnot();
    const imageUp = webVerdict.known ? webVerdict.up : undefined;
    const phase = drain.phase();
    // A drain applies to every prefix of the site; each prefix keeps its own verdicts.
    const next = groups.map((g) => nextState(g, imageUp, phase));
    if (next.some((n, i) => n !== groups[i]?.state)) await apply(next);
    // A bird that could not be told (not up yet) is told again on the next probe.
    else if (next.some(onLo)) await tellBird(next);
  };

  // One change at a time, in the order the verdicts asked for them.
  let applying = Promise.resolve();
  const decide = () => {
    if (stopped || nothingToDo()) return applying;
    deciding++;
    applying = applying.then(async () => {
      try {
        await decideNow();
      } finally {
        deciding--;
      }
    });
    return applying;
  };

  // One round per interval: every prober sends at once, one timer ends what is still open after
  // timeoutMs, and each verdict takes its round's result the moment it is in, so a refused DNS
  // query is acted on without waiting for a slow image path. The next round starts intervalMs
  // after this one ended and its changes were made.
  let timer: NodeJS.Timeout | undefined;
  let expiry: NodeJS.Timeout | undefined;
  let openParts = 0;
  function partResult(p: Part, ok: boolean): void {
    if (p.over || (ok && --p.left > 0)) return;
    p.over = true;
    if (!stopped) {
      p.verdict.feed(ok);
      void decide();
    }
    if (--openParts === 0) {
      clearTimeout(expiry);
      void applying.then(() => {
        if (!stopped) timer = setTimeout(tick, c.intervalMs);
      });
    }
  }
  const expire = () => {
    for (const p of probers) p.expire();
    for (const w of webs) w.expire();
  };
  const tick = () => {
    if (stopped) return;
    // The drain request file: one stat per round.
    drain.watch();
    openParts = parts.length;
    for (const p of parts) {
      p.left = p.size;
      p.over = false;
    }
    expiry = setTimeout(expire, c.timeoutMs);
    for (const p of probers) p.probe();
    for (const w of webs) w.probe();
  };

  const status = c.status ? serveStatus(c.status, c.metrics, () => ({ state, prefixes: groups, dnsUp: groups.every((g) => g.verdict.up), imagePathUp: webVerdict.up, transitions })) : undefined;

  if (drain.scope) log(`started drained (${drain.scope}): ${drain.phase() === 'done' ? 'stays withdrawn' : 'withdrawn; the drain began before this start'}`);
  log(
    `started: withdrawn until ${c.rise} good probes (dns ${c.dns.name} @${groups.flatMap((g) => g.addresses).join(' ')}, image path ${webs.length > 1 ? `${c.http.url} ${c.http.url6}` : c.http.url}, on image path down: ${c.onImagePathDown})`,
  );
  if (c.statusFile) writeAtomic(c.statusFile, `${state}\n`);
  // The service addresses stay on lo while the checker runs: each prefix's probes reach the local
  // server there whether or not the prefix is announced.
  const ready = ipBatch(ip, groups.flatMap((g) => g.addresses.map((a) => `addr replace ${a} dev lo`)));
  timer = setTimeout(() => void ready.then(() => (stopped ? undefined : tick())), 0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(expiry);
      status?.close();
      await applying;
      for (const p of probers) p.close();
      for (const w of webs) w.close();
      if (groups.some((g) => onLo(g.state))) await apply(groups.map((): Announce => 'withdrawn'));
    },
    state: () => state,
    groups: () => Object.fromEntries(groups.map((g) => [g.name, g.state])),
    reloadDrain(d) {
      drain.reload(d);
      void decide();
    },
  };
}
