// The state machine's rules, as pure functions: a probe's rise/fall verdict, what a pair of
// verdicts announces, what a drain makes of that, and which drain is asked for.
//   DNS down at a prefix             -> that prefix withdrawn (the other prefixes stay)
//   DNS up, image path down          -> "deprefer" (default): still announced, with AS-path
//                                       prepends and the graceful-shutdown community, so traffic
//                                       prefers any healthy site but still lands here if none is;
//                                       "withdraw": withdrawn
//   both up                          -> announced
// A drain applies to every prefix of the site at once: "draining" (announced with the
// graceful-shutdown community) until withdrawAfterSec is over, then "drained" (withdrawn); a
// prefix that was not announced when the drain began goes straight to drained.
import type { Announce, DrainConfig, DrainScope, ImagePathPolicy } from './config.ts';

/**
 * A rise/fall verdict: down at start, up after `rise` good probes, down after `fall` bad ones.
 * It is `known` once it has been up or seen `fall` bad probes in a row: until then a down image
 * path is not yet a sick one, so a starting checker does not deprefer on its way to announcing.
 */
export class Verdict {
  up = false;
  known = false;
  private good = 0;
  private bad = 0;

  constructor(
    readonly rise: number,
    readonly fall: number,
  ) {}

  /** Feeds one probe result; returns the verdict after it. */
  feed(ok: boolean): boolean {
    if (ok) {
      this.good++;
      this.bad = 0;
      if (!this.up && this.good >= this.rise) this.up = true;
    } else {
      this.bad++;
      this.good = 0;
      if (this.up && this.bad >= this.fall) this.up = false;
    }
    if (this.up || this.bad >= this.fall) this.known = true;
    return this.up;
  }
}

/** What to announce for a pair of verdicts (an image path not yet known counts as no decision). */
export function target(dnsUp: boolean, imageUp: boolean | undefined, policy: ImagePathPolicy): Announce {
  if (!dnsUp || imageUp === undefined) return 'withdrawn';
  if (imageUp) return 'announced';
  return policy === 'deprefer' ? 'depreferred' : 'withdrawn';
}

export type DrainPhase = 'none' | 'draining' | 'done';

/** True for the states in which the covering prefixes sit on lo (bird announces them). */
export function onLo(s: Announce): boolean {
  return s === 'announced' || s === 'depreferred' || s === 'draining';
}

/**
 * What to announce while a drain runs: `base` (the verdicts' target) when none does; "draining"
 * (announced with the graceful-shutdown community) until the delay is over, but only for a route
 * that is out there now and whose DNS still works; else "drained" (withdrawn).
 */
export function drainTarget(base: Announce, current: Announce, phase: DrainPhase): Announce {
  if (phase === 'none') return base;
  return phase === 'draining' && onLo(current) && base !== 'withdrawn' ? 'draining' : 'drained';
}

/** The drain asked for: the config's (a model drain) or the request file's, site before host. */
export function drainScope(configured: DrainConfig['drained'], requested: string | undefined): DrainScope | undefined {
  const r = requested?.trim();
  if (configured === 'site' || r === 'site') return 'site';
  if (configured === 'host' || r !== undefined) return 'host';
  return undefined;
}

/** The order of announce states, worst first: a site's overall state is its worst prefix's. */
export const RANK: readonly Announce[] = ['withdrawn', 'drained', 'draining', 'depreferred', 'announced'];

/** The worst of the states (withdrawn for none). */
export function worst(states: Announce[]): Announce {
  return RANK[Math.min(...states.map((s) => RANK.indexOf(s)))] ?? 'withdrawn';
}
