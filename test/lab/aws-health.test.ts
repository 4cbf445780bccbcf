// The aws site's health rule in the lab (issue 13): Global Accelerator keeps a dns host of sin in
// rotation only while GET /anycast on the host's health checker answers 200 (anycdn-global's
// endpoint groups poll it on healthcheck.statusPort). The lab has no accelerator, so the sin
// router, which stands where the VPC and the accelerator's health checkers are, polls it the same
// way. When sin's image path dies (haproxy dead on both lb hosts: the VIP serves nothing) both
// endpoints must turn 503 while DNS still answers, and 200 again once the image path is back.
//
// Every wait is bounded; traffic stays inside the lab's namespaces; the lab is removed (by PID and
// namespace, lib/lab/down.ts) before and after, even when a test fails. Run it only through the
// lab lock (see docs/tutorial-lab.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkerState, killUnitTree, startUnitAgain } from '../../lib/lab/control.ts';
import { labDown } from '../../lib/lab/down.ts';
import { waitFor } from '../../lib/lab/exec.ts';
import { nsOf } from '../../lib/lab/plan.ts';
import { http } from '../../lib/lab/probe.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { HEALTHCHECK_STATUS_PATH } from '../../lib/render/endpoints.ts';
import { shQuote } from '../../lib/render/syntax/shell.ts';
import { missingLabDaemon, missingRoot } from '../helpers/daemons.ts';
import { SITES_DIR } from '../helpers/topology.ts';
import { labUpReady } from './bring-up.ts';
import { Figures } from './figures.ts';
import { timeUntil } from './watch.ts';

const skip = missingRoot() ?? missingLabDaemon();

const TRIALS = 3;
const t = loadTopology(SITES_DIR);
const sin = t.sites.find((s) => s.id === 'sin')!;
const dnsHosts = sin.hosts.filter((h) => h.roles.includes('dns'));
const lbHosts = sin.hosts.filter((h) => h.roles.includes('lb')).map((h) => h.name);
/** Where the accelerator's health checks land: each dns host's checker, on its model address. */
const statusUrl = (address: string) => `http://${address}:${t.cdn.healthcheck.statusPort}${HEALTHCHECK_STATUS_PATH}`;
const POLLER = nsOf.router('sin');
/** sh condition (in the poller's namespace): every sin dns host's status endpoint answers `code`. */
const allAnswer = (code: number) => dnsHosts.map((h) => `[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 0.5 ${shQuote(statusUrl(h.address))})" = ${code} ]`).join(' && ');
const figures = new Figures();

describe.skipIf(skip)('lab: an aws site leaves the accelerator\'s rotation when its image path dies', () => {
  beforeAll(async () => {
    await labUpReady(t, SITES_DIR);
  }, 120_000);

  afterAll(async () => {
    await labDown();
    console.log(`\naws health figures:\n${figures.table()}\n`);
  }, 60_000);

  it('sin is in rotation while its DNS and image path are healthy: 200 and "announced" on every dns host', async () => {
    expect(dnsHosts.map((h) => h.name)).toEqual(['sin-lb1', 'sin-lb2']);
    const settled = await waitFor(async () => (dnsHosts.every((h) => checkerState(h.name) === 'announced') ? true : undefined), 20_000, 100);
    expect(settled, dnsHosts.map((h) => `${h.name} ${checkerState(h.name)}`).join(', ')).toBe(true);
    for (const h of dnsHosts) {
      const r = await http(POLLER, statusUrl(h.address), { timeoutSec: 2 });
      expect(r.status, h.name).toBe(200);
    }
  }, 30_000);

  it('the image path dies at sin: every status endpoint turns 503 (DNS still up), and 200 once it is back', async () => {
    const away: number[] = [];
    const back: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      expect((await http(POLLER, statusUrl(dnsHosts[0]!.address), { timeoutSec: 2 })).status, `trial ${trial}: healthy before`).toBe(200);
      let restarted = false;
      try {
        const ms = await timeUntil(POLLER, allAnswer(503), 10_000, async () => Math.max(...(await Promise.all(lbHosts.map((h) => killUnitTree(h, 'haproxy'))))));
        expect(ms, `trial ${trial}: the status endpoints did not turn 503 within 10 s`).toBeDefined();
        away.push(ms!);
        // The site's DNS still answers: the checker reports the image path, not a dead DNS.
        for (const h of dnsHosts) expect(checkerState(h.name), `trial ${trial}: ${h.name}`).toBe(t.cdn.healthcheck.onImagePathDown === 'deprefer' ? 'depreferred' : 'withdrawn');
        const rec = await timeUntil(POLLER, allAnswer(200), 30_000, async () => {
          for (const h of lbHosts) await startUnitAgain(t, h, 'haproxy');
          restarted = true;
        });
        expect(rec, `trial ${trial}: the status endpoints did not answer 200 again within 30 s`).toBeDefined();
        back.push(rec!);
      } finally {
        if (!restarted) for (const h of lbHosts) await startUnitAgain(t, h, 'haproxy').catch(() => undefined);
      }
    }
    const hc = t.cdn.healthcheck;
    figures.record('aws: sin image path dies', 'time until GET /anycast is 503 on both dns hosts', 'ms', `about fall x interval (${hc.fall} x ${hc.intervalMs} ms)`, away);
    figures.record('aws: sin image path back', 'time until GET /anycast is 200 on both dns hosts', 'ms', `about rise x interval (${hc.rise} x ${hc.intervalMs} ms)`, back);
  }, 180_000);
});
