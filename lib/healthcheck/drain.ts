// Draining: the model's (drain.drained in the config, taken again on a reload) or the request file
// that `anycdn drain` writes, read once per probe round (a stat; usually there is none). It applies
// to every prefix of the site at once; a site drain also steers the local Knot to the fallback.
import { readFileSync, statSync } from 'node:fs';
import type { DrainConfig, DrainScope } from './config.ts';
import { knotc, knotFallbackCommands, knotRenderedCommands } from './knot.ts';
import { log } from './log.ts';
import { drainScope, type DrainPhase } from './verdict.ts';

/** The request file's content and age, or undefined when there is none (one read, no process). */
function readRequest(path: string): { text: string; mtimeMs: number } | undefined {
  try {
    // Usually there is none: a stat that does not throw, not a read that builds an error each time.
    const st = statSync(path, { throwIfNoEntry: false });
    return st ? { text: readFileSync(path, 'utf8'), mtimeMs: st.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

export class Drain {
  /** The drain that runs, if any. */
  scope: DrainScope | undefined;
  /** When it began (epoch ms; 0: before this process, so its delay is over). */
  private since = 0;
  /** Whether Knot answers with the fallback now. */
  private knotFallback = false;
  /** The fallback answers, fixed at start: the DNS probes accept them too. */
  readonly fallbacks: string[];

  constructor(private config: DrainConfig | undefined) {
    this.fallbacks = [config?.fallback, config?.fallback6].filter((a): a is string => a !== undefined);
    if (!config) return;
    const initial = readRequest(config.requestFile);
    this.scope = drainScope(config.drained, initial?.text);
    // A request made before this process started keeps its clock; a model drain found at start
    // is over: the unit withdrew before starting, and a drain never announces again.
    if (this.scope) this.since = initial ? initial.mtimeMs : 0;
  }

  phase(): DrainPhase {
    if (!this.config || !this.scope) return 'none';
    return Date.now() - this.since >= this.config.withdrawAfterSec * 1000 ? 'done' : 'draining';
  }

  /** Reads the request (and the config's drain) and notes a drain that begins or ends. */
  watch(): void {
    if (!this.config) return;
    const next = drainScope(this.config.drained, readRequest(this.config.requestFile)?.text);
    if (next && !this.scope) this.since = Date.now();
    if (next !== this.scope) log(next ? `drain (${next}) requested: graceful shutdown, withdrawn in ${this.config.withdrawAfterSec} s` : 'drain ended');
    this.scope = next;
  }

  /**
   * Takes the drain settings of a reloaded config (SIGHUP): a model drain begins or ends, a new
   * delay, and Knot's settings for the next site drain (the answer's TTL). The request file and
   * the fallback answers the DNS probes accept are fixed at start (lib/plan/classify.ts knows).
   */
  reload(d: DrainConfig | undefined): void {
    if (d && this.config) this.config = { ...this.config, drained: d.drained, withdrawAfterSec: d.withdrawAfterSec, ...(this.config.knot && d.knot ? { knot: d.knot } : {}) };
    this.watch();
  }

  /** True when Knot answers as the drain wants (always, without a Knot to steer). */
  knotSettled(): boolean {
    return !this.config?.knot || this.fallbacks.length === 0 || (this.scope === 'site') === this.knotFallback;
  }

  /** Knot answers with the fallback exactly while a site drain runs. */
  async steerKnot(): Promise<void> {
    const k = this.config?.knot;
    if (!k || this.fallbacks.length === 0) return;
    const want = this.scope === 'site';
    if (want === this.knotFallback) return;
    const ok = await knotc(k, want ? knotFallbackCommands(k, this.fallbacks) : knotRenderedCommands(k));
    if (ok) {
      this.knotFallback = want;
      log(want ? `dns: ${k.name} answers ${this.fallbacks.join(' ')} (the fallback site) while this site drains` : `dns: ${k.name} answers from the rendered zone again`);
    }
  }
}
