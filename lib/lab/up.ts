// `anycdn lab up`: the whole model running for real in network namespaces on this machine.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Topology } from '../model/schema.ts';
import { needsFixtures, splitFixtures, throwawayPem } from '../check/fixtures.ts';
import { passwordFile } from '../render/syntax/bird.ts';
import { birdSecretFile, PATHS, renderPlans, secretFileContent } from '../render/index.ts';
import { LabError, waitFor } from './exec.ts';
import { holdsAddress } from './control.ts';
import { LAB_SKIPS, startHolder, startRouterBird, startUnit, type HostStart } from './daemons.ts';
import { applySysctls, buildNetwork } from './network.ts';
import { preflight } from './preflight.ts';
import { prepareOrigin, startOrigin, SYSTEM_CA_BUNDLE } from './origin.ts';
import { lbHosts, originTargets, vrrpPriority } from '../model/facts.ts';
import { labOrigin, planLab, type LabPlan } from './plan.ts';
import { labPassword, routerBirdConf } from './router-bird.ts';
import { FRR_DIR, routerBfddConf, routerBgpdConf, startRouterFrr } from './router-frr.ts';
import { LAB_DIR, labPaths, writeState, type LabState } from './state.ts';
import { hostUnits } from './units.ts';

const VRRP_UNIT = 'keepalived';

/** The lab's TSIG secret for the ACME challenge updates (base64 of 32 bytes; lab only). */
export const LAB_TSIG_SECRET = Buffer.from('anycdn-lab-acme-tsig-secret-0001').toString('base64');

export { LabError };

export interface UpResult {
  state: LabState;
  plan: LabPlan;
  images: string[];
  timings: { step: string; ms: number }[];
}

export interface UpOptions {
  /** Sites whose upstream router runs FRR (bgpd + bfdd) instead of bird: interop with another BGP stack. */
  frrRouters?: string[];
}

/** `step` hears each finished step with its counts (the CLI adds the times); `timings` keeps them. */
export async function labUp(t: Topology, sitesDir: string, onStep: (what: string) => void = () => {}, opts: UpOptions = {}): Promise<UpResult> {
  const plans = renderPlans(t);
  const frr = new Set(opts.frrRouters ?? []);
  // Everything the lab needs of the machine, before anything is created: one line per problem.
  const { problems, notes } = await preflight(plans, t);
  if (frr.size > 0 && !existsSync(join(FRR_DIR, 'bgpd'))) problems.push(`lab: an FRR router needs ${FRR_DIR}/bgpd and bfdd: apt-get install frr`);
  if (problems.length > 0) throw new LabError([...problems, `lab: ${problems.length === 1 ? 'one problem' : `${problems.length} problems`} with this machine; nothing was created`].join('\n'));
  const timings: { step: string; ms: number }[] = [];
  let mark = Date.now();
  const step = (name: string) => {
    const now = Date.now();
    timings.push({ step: name, ms: now - mark });
    onStep(name);
    mark = now;
  };
  const files = plans.flatMap((p) => p.files);
  const plan = planLab(t);
  const state: LabState = { sitesDir, namespaces: plan.namespaces, processes: [], holders: {}, startedAt: new Date().toISOString() };
  mkdirSync(LAB_DIR, { recursive: true });
  writeState(state); // from here on, `lab down` can clean up whatever follows
  try {
    for (const f of files) {
      const p = join(labPaths.tree(f.site, f.host), f.path);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, f.content, { mode: f.mode });
    }
    const origins = originTargets(t);
    const { images, ...originTrust } = await prepareOrigin(origins[0]!);
    for (let i = 1; i < origins.length; i++) await prepareOrigin(origins[i]!, i);
    step(`checked this machine and rendered ${files.length} files for ${plans.length} hosts and ${images.length} origin images${notes.map((n) => `; ${n}`).join('')}`);
    await buildNetwork(plan);
    step(`built ${plan.namespaces.length} namespaces and ${plan.links.length} links`);
    // One throwaway certificate for every path a host needs one (haproxy's https binds).
    const pem = plans.some((p) => p.needs.certPaths.length > 0) ? await throwawayPem().catch((e: Error) => Promise.reject(new LabError(`lab up: ${e.message}`))) : '';

    origins.forEach((_, i) => state.processes.push(startOrigin(i)));
    for (const r of plan.routers) {
      if (frr.has(r.site)) state.processes.push(...startRouterFrr(r.site, r.ns, routerBgpdConf(t, plan, r), routerBfddConf(t, r)));
      else state.processes.push(startRouterBird(r.site, r.ns, routerBirdConf(t, plan, r)));
    }
    writeState(state);

    const hosts = plan.hosts.map((h): HostStart => {
      const site = t.sites.find((s) => s.id === h.site)!;
      const hostPlan = plans.find((p) => p.site === h.site && p.host === h.host)!;
      const hostFiles = hostPlan.files;
      const hostsFile = join(labPaths.etc(h.host), 'hosts');
      mkdirSync(dirname(hostsFile), { recursive: true });
      // As on a Debian host: its own name on 127.0.1.1. The origin's name is the lab origin.
      const originLines = origins.map((o, i) => `${labOrigin(i).v4}\t${o.host}\n`).join('');
      writeFileSync(hostsFile, `127.0.0.1\tlocalhost\n127.0.1.1\t${h.host}\n::1\tlocalhost\n${originLines}`);
      // No resolver in the lab: lookups end at once on loopback instead of timing out.
      const resolvConf = join(labPaths.etc(h.host), 'resolv.conf');
      writeFileSync(resolvConf, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
      // What a real host has that anycdn does not render: the fixtures the checkers use for the
      // plan's needs (throwaway certificates), and BGP passwords that match the lab routers'.
      const fixtures = splitFixtures(needsFixtures(hostPlan.needs));
      const secrets = [
        ...site.bgp.peers
          .filter((p) => p.passwordRef && hostPlan.needs.secretFiles.includes(birdSecretFile(p.name)))
          .map((p) => ({ path: birdSecretFile(p.name), content: passwordFile(labPassword(site.id, p.name)) })),
        // The ACME TSIG key: one lab secret, the same in every Knot and on the issuer.
        ...hostPlan.needs.secretFiles.filter((path) => path === PATHS.knotAcmeKey || path === PATHS.acmeTsigKey).map((path) => ({ path, content: secretFileContent(path, LAB_TSIG_SECRET) })),
      ];
      // Written in order: the lab's passwords replace the checkers' placeholders at the same paths.
      // The throwaway certificates too are written inside the view, into a directory of their own
      // on its tmpfs: anycdn-cert-install replaces them there, as it does on a real host.
      const extra = [...fixtures.files, ...secrets, ...fixtures.certificates.map((path) => ({ path, content: pem }))];
      const certDirs = [...new Set(fixtures.certificates.map((path) => dirname(path)))].map((path) => ({ path, owner: 'root', group: 'root', mode: 0o700 }));
      const fileBinds = [
        { source: hostsFile, target: '/etc/hosts' },
        { source: resolvConf, target: '/etc/resolv.conf' },
        { source: originTrust.caBundle, target: SYSTEM_CA_BUNDLE },
      ];
      return { site: h.site, host: h.host, ns: h.ns, files: hostFiles, units: hostPlan.units, dirs: [...hostPlan.needs.dirs, ...certDirs], extra, treeFiles: [], fileBinds };
    });
    await Promise.all(hosts.map((h) => applySysctls(h.ns, h.files)));
    for (const p of await Promise.all(hosts.map(startHolder))) {
      state.processes.push(p);
      state.holders[p.owner] = p.pid;
    }
    writeState(state);
    step(`started ${plan.routers.length} routers, ${origins.length === 1 ? 'the origin' : `${origins.length} origins`} and ${hosts.length} host views`);

    // Each host's units in their After= order; hosts in parallel. keepalived comes last, and in
    // each lb pair the host of the higher VRRP priority starts it first and the next one only once
    // it holds the VIP (at most 3 s): it wins the first election, as after a planned boot, instead
    // of whichever host got there first holding the VIP until the other preempts it preempt_delay
    // later (and lab status waits for that). Started a few milliseconds apart, the two would race.
    const start = async (h: (typeof hosts)[number], unit: ReturnType<typeof hostUnits>[number]) => {
      if (!LAB_SKIPS[unit.name]) state.processes.push(...(await startUnit(h, state.holders[h.host]!, unit)));
    };
    await Promise.all(hosts.map(async (h) => {
      for (const unit of hostUnits(h.units).filter((u) => u.name !== VRRP_UNIT)) await start(h, unit);
    }));
    const priority = (h: (typeof hosts)[number]) => {
      const site = t.sites.find((s) => s.id === h.site)!;
      return vrrpPriority(site, site.hosts.find((x) => x.name === h.host)!);
    };
    await Promise.all(t.sites.map(async (site) => {
      const lbs = new Set(lbHosts(site).map((x) => x.name));
      const pair = hosts.filter((h) => lbs.has(h.host)).sort((a, b) => priority(b) - priority(a));
      for (const h of pair) {
        for (const unit of hostUnits(h.units).filter((u) => u.name === VRRP_UNIT)) await start(h, unit);
        if (h !== pair.at(-1)) await waitFor(async () => (holdsAddress(h.host, site.vip.address, state.holders) ? true : undefined), 3000, 50);
      }
    }));
    writeState(state);
    step(`started ${state.processes.length} processes: every rendered unit of ${hosts.length} hosts`);
    return { state, plan, images, timings };
  } catch (e) {
    writeState(state);
    throw e;
  }
}

