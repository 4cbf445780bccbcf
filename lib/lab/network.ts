// Carries out the network part of a LabPlan with iproute2: namespaces, veth pairs, bridges,
// addresses, routes and forwarding. One `ip -batch` per namespace keeps `up` fast.
import { byCodePoint } from '../model/order.ts';
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
  for (const sw of plan.switches) perNs.get(sw)!.push('link add br0 type bridge', 'link set br0 type bridge stp_state 0 mcast_snooping 0', 'link set br0 up');
  for (const l of plan.links) {
    for (const end of [l.a, l.b]) {
      const cmds = perNs.get(end.ns)!;
      if ('bridged' in end && end.bridged) cmds.push(`link set ${end.ifname} master br0`);
      cmds.push(`link set ${end.ifname} up`);
      for (const a of end.addrs) cmds.push(`addr add ${a} dev ${end.ifname}${a.includes(':') ? ' nodad' : ''}`);
    }
  }
  await Promise.all([...perNs.entries()].map(([ns, cmds]) => must('ip', ['-n', ns, '-batch', '-'], { input: `${cmds.join('\n')}\n` })));
  const sysctls = plan.forwarding.map((ns) =>
    must('ip', ['netns', 'exec', ns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/ipv6/conf/all/forwarding']),
  );
  await Promise.all(sysctls);
  const routes = new Map<string, string[]>();
  for (const r of plan.routes) routes.set(r.ns, [...(routes.get(r.ns) ?? []), r.args.join(' ')]);
  await Promise.all([...routes.entries()].map(([ns, cmds]) => must('ip', ['-n', ns, '-batch', '-'], { input: `${cmds.join('\n')}\n` })));
}

/** Applies a host's rendered /etc/sysctl.d files in its namespace, as systemd-sysctl would at boot. */
export async function applySysctls(ns: string, files: RenderedFile[]): Promise<void> {
  const writes: string[] = [];
  for (const f of files.filter((x) => x.path.startsWith('/etc/sysctl.d/')).sort((a, b) => byCodePoint(a.path, b.path))) {
    for (const line of f.content.split('\n')) {
      const m = /^\s*([a-z0-9_.]+)\s*=\s*(\S+)\s*$/.exec(line);
      if (m) writes.push(`echo ${m[2]} > /proc/sys/${m[1]!.replace(/\./g, '/')}`);
    }
  }
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
