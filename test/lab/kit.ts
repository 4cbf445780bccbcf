// What the lab scenarios and the failover bench share: sh conditions a watch loop polls, the VRRP
// pair of a site, and bringing a killed lb host back as a real backup. All of it from a topology,
// so the bench can run the same scenario on a model variant.
import { anycastFamilies } from '../../lib/model/facts.ts';
import { holdsAddress, logSize, startUnitAgain, waitForLog } from '../../lib/lab/control.ts';
import { settledHolder } from '../../lib/lab/status.ts';
import { sleep } from '../../lib/lab/exec.ts';
import { nsOf } from '../../lib/lab/plan.ts';
import type { Topology } from '../../lib/model/schema.ts';
import { shQuote } from '../../lib/render/syntax/shell.ts';

export function labKit(t: Topology) {
  const IMG = t.cdn.imageHost;
  const ANYCAST = anycastFamilies(t)[0]!.address;
  const site = (id: string) => {
    const s = t.sites.find((x) => x.id === id);
    if (!s) throw new Error(`lab: no site ${id}`);
    return s;
  };
  const lbHosts = (id: string) => site(id).hosts.filter((h) => h.roles.includes('lb')).map((h) => h.name);
  const dnsHosts = (id: string) => site(id).hosts.filter((h) => h.roles.includes('dns')).map((h) => h.name);

  /** sh condition: the anycast DNS answers the image host with `address` (from the current namespace). */
  const dnsAnswers = (address: string) => `[ "$(timeout 0.3 kdig +short +retry=0 @${ANYCAST} ${IMG} A 2>/dev/null)" = ${shQuote(address)} ]`;
  /** sh condition: the VIP serves the health path. */
  const vipServes = (vip: string) => `curl -fsS -o /dev/null --max-time 0.3 -H ${shQuote(`Host: ${IMG}`)} http://${vip}${t.cdn.healthcheck.path}`;
  /** sh condition: `backup` holds the VIP and the VIP serves. */
  const backupServes = (backup: string, vip: string) => `ip -n ${nsOf.host(backup)} -br addr show | grep -q ' ${vip}/' && ${vipServes(vip)}`;

  /** Whether `host` holds the VIP now (lib/lab/control.ts: read from its namespace, no process). */
  const holdsVip = async (host: string, vip: string): Promise<boolean> => holdsAddress(host, vip);

  /**
   * Waits (bounded) until a site's VRRP pair has settled: with preemption on, the highest-priority
   * lb holds the VIP. Until then a preemption can move the VIP mid-scenario, and moving it resets
   * every client connection open on the old holder (seen here: 1-2 resets at 350 req/s).
   */
  async function vrrpSettled(id: string): Promise<void> {
    const s = site(id);
    const winner = settledHolder(s);
    if (s.vip.preempt === false || !winner) return;
    const deadline = Date.now() + (s.vip.preempt.delaySec + 10) * 1000;
    while (!(await holdsVip(winner, s.vip.address))) {
      if (Date.now() > deadline) throw new Error(`${id}: ${winner} did not take the VIP within preempt_delay + 10 s`);
      await sleep(200);
    }
  }

  /** The site's lb pair: which host holds the VIP now, and which is its backup. */
  async function vrrpPair(id: string): Promise<{ master: string; backup: string }> {
    const [a, b] = lbHosts(id) as [string, string];
    return (await holdsVip(a, site(id).vip.address)) ? { master: a, backup: b } : { master: b, backup: a };
  }

  /** Starts units on hosts again, as their supervisor would. */
  async function restart(hosts: string[], unit: string): Promise<void> {
    for (const h of hosts) await startUnitAgain(t, h, unit);
  }

  /**
   * Starts a failed lb host's units again and waits until it is a real backup: the next trial
   * kills whichever host is master then (its haproxy track script must have passed again).
   */
  async function restartAsBackup(host: string, units: string[], trial: number): Promise<void> {
    const from = logSize(host, 'keepalived');
    for (const unit of units) await restart([host], unit);
    if (!(await waitForLog(host, 'keepalived', /Entering BACKUP STATE/, from, 15_000))) throw new Error(`trial ${trial}: ${host} did not come back as backup`);
    await sleep(500);
  }

  return { IMG, ANYCAST, site, lbHosts, dnsHosts, dnsAnswers, vipServes, backupServes, holdsVip, vrrpSettled, vrrpPair, restart, restartAsBackup };
}
