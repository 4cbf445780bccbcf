// FRR (bgpd + bfdd, with zebra for the kernel routes) as a lab site's upstream router, in place of
// bird: the other side of the site's sessions as an operator running FRR 8.4 (Debian 12) would
// configure it, `neighbor X ttl-security hops 1` for a GTSM peer and `neighbor X bfd` with the
// model's timers as a BFD profile. Like the bird routers it accepts from the site only the anycast
// prefixes whose origin the ROAs name (an as-path list in place of an RPKI cache), gives a
// graceful-shutdown route local preference 0, strips private ASNs towards the core
// (remove-private-AS all) and peers with the other routers there. It validates the origin the site
// sends, so it stands in for a public bgp.originAsn (the shipped model's), not for an upstream
// that originates for a private one (the bird routers cover that). Started and stopped by PID.
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { anycastFamilies, bfdTimers, originAsn } from '../model/facts.ts';
import { familyOf } from '../model/net.ts';
import type { Peer, Topology } from '../model/schema.ts';
import { roas, type Roa } from '../render/index.ts';
import { LabError, startDetached } from './exec.ts';
import type { LabPlan, LabRouter } from './plan.ts';
import { labPassword } from './router-bird.ts';
import { labPaths, type LabProcess } from './state.ts';

export const FRR_DIR = '/usr/lib/frr';

/** The BFD profile of a peer: its timers, named after the model key. */
const profile = (p: Peer) => `anycdn-${p.name}`;

/** bfdd.conf: one profile per BFD peer of the site, with the model's timers. */
export function routerBfddConf(t: Topology, router: LabRouter): string {
  const site = t.sites.find((s) => s.id === router.site)!;
  const lines = ['frr defaults traditional', `hostname router-${site.id}`, '!', 'bfd'];
  for (const p of site.bgp.peers) {
    const b = bfdTimers(p);
    if (!b) continue;
    lines.push(` profile ${profile(p)}`, `  receive-interval ${b.intervalMs}`, `  transmit-interval ${b.intervalMs}`, `  detect-multiplier ${b.multiplier}`, ' exit');
  }
  lines.push('exit', '!');
  return `${lines.join('\n')}\n`;
}

/** bgpd.conf: the site's sessions (what its peers run) and the core sessions. */
export function routerBgpdConf(t: Topology, plan: LabPlan, router: LabRouter, roaList: Roa[] = roas(t)): string {
  const site = t.sites.find((s) => s.id === router.site)!;
  const origin = originAsn(t);
  const dns = site.hosts.filter((h) => h.roles.includes('dns'));
  const others = plan.routers.filter((r) => r.site !== router.site);
  const fams = anycastFamilies(t);
  const L: string[] = ['frr defaults traditional', `hostname router-${site.id}`, 'log stdout informational', '!'];
  // The anycast prefixes, and origins the ROAs name: the route-map equivalent of roa_check.
  for (const [i, f] of fams.entries()) L.push(`${f.family === 4 ? 'ip' : 'ipv6'} prefix-list anycast${f.family} seq ${(i + 1) * 5} permit ${f.prefix}`);
  const asns = [...new Set(roaList.map((r) => r.asn))];
  asns.forEach((a, i) => L.push(`bgp as-path access-list roa-origin seq ${(i + 1) * 5} permit _${a}$`));
  L.push('bgp community-list standard gshut seq 5 permit graceful-shutdown', '!');
  for (const family of [4, 6] as const) {
    const match = `match ${family === 4 ? 'ip' : 'ipv6'} address prefix-list anycast${family}`;
    L.push(
      `route-map from-site${family} permit 10`, ` ${match}`, ' match as-path roa-origin', ' match community gshut', ' set local-preference 0', 'exit',
      `route-map from-site${family} permit 20`, ` ${match}`, ' match as-path roa-origin', 'exit',
      `route-map from-site${family} deny 40`, 'exit',
    );
  }
  L.push('route-map from-core permit 10', ' match community gshut', ' set local-preference 0', 'exit', 'route-map from-core permit 20', 'exit', '!');
  L.push(`router bgp ${router.coreAsn}`, ` bgp router-id ${router.core4}`, ' no bgp ebgp-requires-policy', ' no bgp default ipv4-unicast', ' no bgp network import-check');
  const sessions: { address: string; family: 4 | 6; peer?: Peer }[] = [];
  for (const p of site.bgp.peers) {
    const family = familyOf(p.address);
    for (const h of dns) {
      const address = family === 4 ? h.address : h.address6;
      if (!address) continue;
      sessions.push({ address, family, peer: p });
      L.push(` neighbor ${address} remote-as ${origin}`, ` neighbor ${address} timers ${site.bgp.keepaliveTimeSec} ${site.bgp.holdTimeSec}`, ` neighbor ${address} timers connect 1`);
      if (p.multihop !== undefined) L.push(` neighbor ${address} ebgp-multihop ${p.multihop}`);
      if (p.ttlSecurity) L.push(` neighbor ${address} ttl-security hops 1`);
      if (bfdTimers(p)) L.push(` neighbor ${address} bfd`, ` neighbor ${address} bfd profile ${profile(p)}`);
      if (p.passwordRef) L.push(` neighbor ${address} password ${labPassword(site.id, p.name)}`);
    }
  }
  for (const o of others) {
    for (const family of [4, 6] as const) {
      const address = family === 4 ? o.core4 : o.core6;
      sessions.push({ address, family });
      L.push(` neighbor ${address} remote-as ${o.coreAsn}`, ` neighbor ${address} timers connect 1`);
    }
  }
  for (const family of [4, 6] as const) {
    L.push(` address-family ipv${family} unicast`, '  redistribute connected', '  maximum-paths 8');
    for (const s of sessions.filter((x) => x.family === family)) {
      L.push(`  neighbor ${s.address} activate`);
      if (s.peer) L.push(`  neighbor ${s.address} route-map from-site${family} in`, `  neighbor ${s.address} route-map deny-all out`);
      else L.push(`  neighbor ${s.address} route-map from-core in`, `  neighbor ${s.address} remove-private-AS all`);
    }
    L.push(' exit-address-family');
  }
  L.push('exit', '!', 'route-map deny-all deny 10', 'exit', '!');
  return `${L.join('\n')}\n`;
}

/**
 * Starts zebra, bfdd and bgpd in the router's namespace, each in the foreground with its own pid
 * file, vty socket and zebra socket under the lab's directory (never /run/frr or /etc/frr of the
 * machine). FRR drops to the frr user, which must own that directory.
 */
export function startRouterFrr(site: string, ns: string, bgpd: string, bfdd: string): LabProcess[] {
  const dir = labPaths.etc(`router-${site}`);
  const logs = labPaths.logs(`router-${site}`);
  mkdirSync(dir, { recursive: true });
  mkdirSync(logs, { recursive: true });
  writeFileSync(join(dir, 'bgpd.conf'), bgpd);
  writeFileSync(join(dir, 'bfdd.conf'), bfdd);
  writeFileSync(join(dir, 'zebra.conf'), 'frr defaults traditional\n!\n');
  let uid: number;
  let gid: number;
  try {
    [uid, gid] = ['-u', '-g'].map((f) => Number(execFileSync('id', [f, 'frr'], { encoding: 'utf8' }).trim())) as [number, number];
  } catch {
    throw new LabError('lab: an FRR router needs the frr user of Debian\'s frr package; apt-get install frr');
  }
  chownSync(dir, uid, gid);
  const common = (daemon: string) => ['-u', 'frr', '-g', 'frr', '-z', join(dir, 'zserv.api'), '--vty_socket', dir, '-i', join(dir, `${daemon}.pid`), '-f', join(dir, `${daemon}.conf`), '--log', `file:${join(logs, `${daemon}.log`)}`];
  // FRR writes its crash log and per-thread log buffers to /var/tmp/frr/<daemon>.<pid>, a path
  // compiled in, and leaves them behind when killed: each daemon runs in a mount namespace of its
  // own whose /var/tmp is the lab's directory, so they land there and go with `lab down`.
  const varTmp = join(logs, 'var-tmp');
  mkdirSync(varTmp, { recursive: true });
  chmodSync(varTmp, 0o1777); // as /var/tmp: the daemons, once they are the frr user, remove their own directory there
  const start = (daemon: string, extra: string[] = []) => {
    const args = [join(FRR_DIR, daemon), ...common(daemon), ...extra];
    const child = startDetached('ip', ['netns', 'exec', ns, ...privateVarTmp(varTmp), ...args], join(logs, `${daemon}.out`));
    return { pid: child.pid!, ns, owner: `router-${site}`, unit: daemon };
  };
  return [start('zebra'), start('bfdd', ['--bfdctl', join(dir, 'bfdd.sock')]), start('bgpd')];
}

/**
 * The command prefix that runs a program with `dir` bound over /var/tmp, in a mount namespace of
 * its own (private: nothing reaches the machine's), then execs it, so its PID is the program's.
 * A machine without /var/tmp gets nothing bound: FRR then cannot create its directory there
 * either, and runs without a crash log.
 */
export function privateVarTmp(dir: string): string[] {
  const script = 'if [ -d /var/tmp ]; then mount --bind "$0" /var/tmp || exit 1; fi; exec "$@"';
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, dir];
}

/** vtysh against a lab FRR router (its own vty socket directory). */
export function vtyshArgs(site: string, ns: string, ...commands: string[]): string[] {
  return ['netns', 'exec', ns, 'vtysh', '--vty_socket', labPaths.etc(`router-${site}`), ...commands.flatMap((c) => ['-c', c])];
}
