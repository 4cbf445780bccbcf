// anycdn-healthcheck: the anycast health checker of a dns host. `npm run build` bundles this entry
// and the modules beside it into lib/healthcheck/anycdn-healthcheck.mjs, one dependency-free file
// for Debian's `nodejs` (18 or newer), which every dns host's bundle ships and its unit runs:
//   node anycdn-healthcheck.mjs CONFIG.json           the checker, until SIGTERM or SIGINT
//   node anycdn-healthcheck.mjs --check-config CONFIG.json
// Signals: SIGTERM and SIGINT stop it (it withdraws every prefix, then exits 0); SIGHUP re-reads
// the config and takes its drain settings (a model drain begins or ends, Knot's answer TTL),
// refusing a broken file.
// The unit's ExecStopPost withdraws too, so an announcement never outlives the checker, SIGKILL
// included. How it judges and what it announces: checker.ts and verdict.ts.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { startChecker } from './checker.ts';
import { parseConfig, type Config } from './config.ts';
import { log } from './log.ts';

// What the tests and tools use of the program, from the bundle as from the source.
export { birdConfigure } from './announce.ts';
export { startChecker, type Checker, type CheckerHooks } from './checker.ts';
export { parseConfig, type Announce, type Config, type DrainConfig } from './config.ts';
export { addressBytes, answerMatches, canonicalIp, dnsAnswers, dnsQuery } from './dns-wire.ts';
export { allowList, metricsText } from './status.ts';
export { drainScope, drainTarget, target, Verdict } from './verdict.ts';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Runs the program; returns the exit code of a run that ends here (usage, a bad config, --check-config). */
export function main(argv: string[]): number | undefined {
  const checkOnly = argv[0] === '--check-config';
  const file = checkOnly ? argv[1] : argv[0];
  if (!file) {
    process.stderr.write('usage: anycdn-healthcheck [--check-config] CONFIG.json\n');
    return 2;
  }
  let c: Config;
  try {
    c = parseConfig(readFileSync(file, 'utf8'));
  } catch (e) {
    process.stderr.write(`${file}:1:1: ${message(e)}\n`);
    return 1;
  }
  if (checkOnly) return 0;
  const checker = startChecker(c);
  const stop = async () => {
    await checker.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    try {
      checker.reloadDrain(parseConfig(readFileSync(file, 'utf8')).drain);
      log("reloaded: drain settings and Knot's answer TTL taken; other changes need a restart");
    } catch (e) {
      log(`reload refused, running on: ${file}:1:1: ${message(e)}`);
    }
  });
  return undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = main(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
}
