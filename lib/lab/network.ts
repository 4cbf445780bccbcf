// Carries out the network part of a LabPlan with iproute2: namespaces, veth pairs, bridges,
// addresses, routes and forwarding. One `ip -batch` per namespace keeps `up` fast.
import { byCodePoint } from '../model/order.ts';
import { emitSh, quote, sh } from '../render/syntax/shell.ts';
import type { RenderedFile } from '../render/types.ts';
import { must } from '../run.ts';
import type { LabPlan } from './plan.ts';

export async function buildNetwork(plan: LabPlan): Promise<void> {
  await must('ip', ['-batch', '-'], { input: plan.namespaces.map((n) => `netns add ${n}\n`).join('') });
  // Both ends are created directly inside their namespaces, so nothing touches the machine's own.
  await must('ip', ['-batch', '-'], {
    input: plan.links.map((l) => `link add name ${l.a.ifname} netns ${l.a.ns} type veth peer name ${l.b.ifname} netns ${l.b.ns}\n`).join(''),
  });
  const perNs = new Map<string, string[]>(plan.namespaces.map((n) => [n, ['link set lo up']]));
  for (const b of plan.bridges) perNs.get(b.ns)!.push(`link add ${b.name} type bridge`, `link set ${b.name} type bridge stp_state 0 mcast_snooping 0`, `link set ${b.name} up`);
  for (const l of plan.loopbacks) perNs.get(l.ns)!.push(`addr add ${l.addr} dev lo${l.addr.includes(':') ? ' nodad' : ''}`);
  for (const l of plan.links) {
    for (const end of [l.a, l.b]) {
      const cmds = perNs.get(end.ns)!;
      if ('bridge' in end && end.bridge) cmds.push(`link set ${end.ifname} master ${end.bridge}`);
      cmds.push(`link set ${end.ifname} up`);
      for (const a of end.addrs) cmds.push(`addr add ${a} dev ${end.ifname}${a.includes(':') ? ' nodad' : ''}`);
    }
  }
  await Promise.all([...perNs.entries()].map(([ns, cmds]) => must('ip', ['-n', ns, '-batch', '-'], { input: `${cmds.join('\n')}\n` })));
  const forward = emitSh(ROUTER_SYSCTLS.map((k) => sh`echo 1 > ${quote(sysctlPath(k))}`)).join(' && ');
  const sysctls = plan.forwarding.map((ns) => must('ip', ['netns', 'exec', ns, 'sh', '-c', forward]));
  await Promise.all(sysctls);
  await Promise.all(hopFloorRules(plan).map(({ ns, script }) => must('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: script })));
  const routes = new Map<string, string[]>();
  for (const r of plan.routes) routes.set(r.ns, [...(routes.get(r.ns) ?? []), r.args.join(' ')]);
  await Promise.all([...routes.entries()].map(([ns, cmds]) => must('ip', ['-n', ns, '-batch', '-'], { input: `${cmds.join('\n')}\n` })));
}

/** The nft table that holds a router's hop floors (plan.hopFloors). */
export const HOP_TABLE = 'lab_hops';

/**
 * One nft script per router namespace with hop floors: a counted drop of each packet to a multihop
 * peer's address that arrives with a TTL or hop limit below the peer's multihop (the counter is
 * what a test reads to see the floor at work).
 */
export function hopFloorRules(plan: LabPlan): { ns: string; script: string }[] {
  const byNs = new Map<string, string[]>();
  for (const f of plan.hopFloors) {
    const match = f.address.includes(':') ? `ip6 daddr ${f.address} ip6 hoplimit` : `ip daddr ${f.address} ip ttl`;
    byNs.set(f.ns, [...(byNs.get(f.ns) ?? []), `\t\t${match} < ${f.minTtl} counter drop`]);
  }
  return [...byNs].map(([ns, rules]) => ({
    ns,
    script: [`table inet ${HOP_TABLE} {`, '\tchain input {', '\t\ttype filter hook input priority filter; policy accept;', ...rules, '\t}', '}', ''].join('\n'),
  }));
}

/** The sysctls the lab itself sets in every router namespace. */
export const ROUTER_SYSCTLS = ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'];

/**
 * The settings of a host's rendered sysctl.d files (RenderedFile.sysctls, as data: nothing is read
 * back from the text), files in path order and settings in file order, as systemd-sysctl applies them.
 */
export function sysctlSettings(files: RenderedFile[]): { file: string; key: string; value: string }[] {
  return files
    .filter((f) => f.sysctls !== undefined)
    .sort((a, b) => byCodePoint(a.path, b.path))
    .flatMap((f) => f.sysctls!.map((s) => ({ file: f.path, key: s.key, value: s.value })));
}

/** The /proc/sys path of a sysctl key. */
export const sysctlPath = (key: string) => `/proc/sys/${key.replace(/\./g, '/')}`;

/** The sh lines that write those settings to /proc/sys, through the shell emitter: every value quoted. */
export function sysctlWrites(files: RenderedFile[]): string[] {
  return emitSh(sysctlSettings(files).map((s) => sh`printf '%s\n' ${quote(s.value)} > ${quote(sysctlPath(s.key))}`));
}

/**
 * Applies a host's rendered sysctl settings in its namespace, as systemd-sysctl would at boot.
 * Preflight has made sure each one belongs to the network namespace (net.*), so none reaches the
 * machine's own settings.
 */
export async function applySysctls(ns: string, files: RenderedFile[]): Promise<void> {
  const writes = sysctlWrites(files);
  if (writes.length > 0) await must('ip', ['netns', 'exec', ns, 'sh', '-ec', writes.join('\n')]);
}

/** Every namespace whose name marks it as the lab's, from `ip netns list`. */
export async function labNamespaces(prefix: string): Promise<string[]> {
  const out = await must('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(prefix))
    .sort();
}
