// The lab's preflight (lib/lab/preflight.ts) on fake machine facts: what the lab needs of the
// machine, and one line per problem saying what to fix, all at once. No process is started.
import { describe, expect, it } from 'vitest';
import { labNeeds, nofileNote, preflightProblems, type LabNeeds, type MachineFacts } from '../../lib/lab/preflight.ts';
import { renderPlans } from '../../lib/render/index.ts';
import { haproxyMaxConn } from '../helpers/lab-models.ts';
import { loadEdited } from '../helpers/topology.ts';

const shipped = labNeeds(renderPlans(loadEdited()), loadEdited());
const withMaxConn = (maxConn: number) => {
  const t = loadEdited((x) => haproxyMaxConn(x, maxConn));
  return labNeeds(renderPlans(t), t);
};

/** A machine that has everything: root with CAP_SYS_RESOURCE, the kernel's default fs.nr_open. */
function good(needs: LabNeeds, change: Partial<MachineFacts> = {}): MachineFacts {
  return {
    platform: 'linux',
    uid: 0,
    present: new Set(needs.programs.map((p) => p.program)),
    nrOpen: 1_048_576,
    nofileHard: 1_048_576,
    canRaiseNofile: true,
    probe: { namespaces: true, veth: true, bridge: true, writable: new Set(needs.sysctls.map((s) => s.key)), error: '' },
    leftovers: [],
    labDir: false,
    ...change,
  };
}

describe('what the lab needs of the machine', () => {
  it('every program it and the units it runs start, with the Debian package to install (rendered scripts excepted)', () => {
    expect(shipped.programs.map((p) => [p.program, p.packages.join(' '), p.users.join('; ')])).toEqual([
      ['ip', 'iproute2', 'the lab network (ip netns, veth, bridges)'],
      ['unshare', 'util-linux', 'the host views'],
      ['nsenter', 'util-linux', 'the host views'],
      ['mount', 'mount', 'the host views'],
      ['pivot_root', 'util-linux', 'the host views'],
      ['setpriv', 'util-linux', 'units with User='],
      ['bird', 'bird2', 'the lab routers'],
      ['nft', 'nftables', "the lab routers (a multihop peer's hop count)"],
      ['nginx', 'nginx', 'the lab origin'],
      ['openssl', 'openssl', "the lab origin's certificate"],
      ['kdig', 'knot-dnsutils', 'lab status (DNS answers)'],
      ['curl', 'curl', 'lab status (the VIPs)'],
      ['/usr/sbin/nft', 'nftables', 'unit anycdn-exporter-firewall'],
      ['/usr/bin/python3', 'gir1.2-vips-8.0 python3 python3-gi', 'unit anycdn-thumbnailer'],
      ['/bin/mkdir', 'coreutils', 'unit nginx'],
      ['/usr/sbin/nginx', 'nginx', 'unit nginx'],
      ['/usr/bin/mtail', 'mtail', 'unit mtail'],
      ['/usr/bin/prometheus-nginx-exporter', 'prometheus-nginx-exporter', 'unit prometheus-nginx-exporter'],
      ['/usr/bin/prometheus-node-exporter', 'prometheus-node-exporter', 'unit prometheus-node-exporter'],
      ['/usr/sbin/knotc', 'knot', 'unit knot'],
      ['/usr/sbin/knotd', 'knot', 'unit knot'],
      ['/bin/sh', 'dash', 'unit bird; unit haproxy'],
      ['/usr/sbin/bird', 'bird2', 'unit bird'],
      ['/usr/bin/node', 'nodejs', 'unit anycdn-healthcheck'],
      ['/usr/sbin/sysctl', 'procps', 'unit haproxy'],
      ['/usr/sbin/haproxy', 'haproxy', 'unit haproxy'],
      ['/usr/sbin/keepalived', 'keepalived nftables', 'unit keepalived'],
      ['/usr/sbin/ip', 'iproute2', 'unit keepalived'],
      ['/usr/bin/prometheus-bird-exporter', 'prometheus-bird-exporter', 'unit prometheus-bird-exporter'],
      ['/usr/sbin/squid', 'squid', 'unit squid'],
      ['/usr/bin/prometheus-squid-exporter', 'prometheus-squid-exporter', 'unit prometheus-squid-exporter'],
    ]);
  });

  it("each unit's file limit, and haproxy's need from maxConn (2 x 8000 + 1024)", () => {
    expect(shipped.nofile.map((n) => [n.unit, n.hard, n.min, n.hosts.length])).toEqual([
      ['haproxy', 1_048_576, 17_024, 6],
      ['anycdn-exporter-firewall', 524_288, undefined, 12],
      ['anycdn-healthcheck', 524_288, undefined, 6],
      ['anycdn-thumbnailer', 524_288, undefined, 4],
      ['bird', 524_288, undefined, 4],
      ['keepalived', 524_288, undefined, 6],
      ['knot', 524_288, undefined, 6],
      ['mtail', 524_288, undefined, 4],
      ['prometheus-bird-exporter', 524_288, undefined, 4],
      ['prometheus-nginx-exporter', 524_288, undefined, 4],
      ['prometheus-node-exporter', 524_288, undefined, 12],
      ['prometheus-squid-exporter', 524_288, undefined, 2],
      ['nginx', 65_536, undefined, 4],
      ['squid', 65_536, undefined, 2],
    ]);
  });

  it('the sysctls set inside its namespaces: the routers\' forwarding and the hosts\' sysctl.d files', () => {
    expect(shipped.sysctls.map((s) => [s.key, s.users.length])).toEqual([
      ['net.ipv4.ip_forward', 1],
      ['net.ipv6.conf.all.forwarding', 1],
      ['net.ipv4.ip_nonlocal_bind', 6],
      ['net.ipv6.ip_nonlocal_bind', 4],
      ['net.ipv4.conf.all.arp_announce', 6],
      ['net.ipv4.conf.all.arp_ignore', 6],
    ]);
  });
});

describe('preflight problems', () => {
  it('none on a machine that has everything', () => {
    expect(preflightProblems(shipped, good(shipped))).toEqual([]);
    expect(nofileNote(shipped, good(shipped))).toBeUndefined();
  });

  it('every problem at once, one line each, each saying what to fix', () => {
    const needs = withMaxConn(600_000);
    const present = new Set([...good(needs).present].filter((p) => p !== 'bird' && p !== '/usr/sbin/haproxy'));
    const writable = new Set(needs.sysctls.map((s) => s.key).filter((k) => k !== 'net.ipv6.ip_nonlocal_bind'));
    expect(
      preflightProblems(needs, good(needs, { present, leftovers: ['acdn-core', 'acdn-rt-ams'], labDir: true, probe: { namespaces: true, veth: false, bridge: false, writable, error: '' } })),
    ).toEqual([
      'lab: a lab is already up or half-built (2 acdn-* namespaces, state in /run/anycdn-lab): run `anycdn lab down` first',
      'lab: bird is missing (for the lab routers): install it with `apt-get install bird2`',
      'lab: /usr/sbin/haproxy is missing (for unit haproxy): install it with `apt-get install haproxy`',
      'lab: haproxy on ams-lb1, ams-lb2 cannot start with fewer than 1201024 open files, and this machine gives at most 1048576: raise fs.nr_open (1048576 here, the most any process may open) with `sysctl -w fs.nr_open=1201024`, or lower haproxy.maxConn of site ams from 600000 to 523776 in a copy of the model for the lab',
      'lab: this kernel cannot create veth pairs (ip link add type veth failed): load the veth module (`modprobe veth`) or use a kernel with CONFIG_VETH',
      'lab: this kernel cannot create bridges (ip link add type bridge failed): load the bridge module (`modprobe bridge`) or use a kernel with CONFIG_BRIDGE',
      'lab: net.ipv6.ip_nonlocal_bind (set by /etc/sysctl.d/60-anycdn.conf on ams-lb1, /etc/sysctl.d/60-anycdn.conf on ams-lb2, /etc/sysctl.d/60-anycdn.conf on nyc-lb1 and 1 more) cannot be set inside a network namespace on this kernel (/proc/sys/net/ipv6/ip_nonlocal_bind): run the lab on a kernel that keeps it per network namespace',
    ]);
  });

  it('without root: that alone, and no probe (it needs root)', () => {
    expect(preflightProblems(shipped, good(shipped, { uid: 1000 }))).toEqual(['lab: needs root (network namespaces, veth pairs, mounts): run it as root']);
  });

  it('without network namespaces: one line, not one per thing the probe could not try', () => {
    const probe = { namespaces: false, veth: false, bridge: false, writable: new Set<string>(), error: 'unshare: unshare failed: Operation not permitted' };
    expect(preflightProblems(shipped, good(shipped, { probe }))).toEqual([
      'lab: cannot create network, mount and PID namespaces here (unshare: unshare failed: Operation not permitted): run it on a kernel with network namespaces, in a container allowed to create them (privileged)',
    ]);
  });

  it('not on Linux: that alone', () => {
    expect(preflightProblems(shipped, good(shipped, { platform: 'darwin' }))).toEqual(['lab: needs Linux (network namespaces, veth, bridges); run it on a Linux machine']);
  });

  describe('a root without CAP_SYS_RESOURCE (it may not raise its hard file limit, here 20000)', () => {
    const capless = (needs: LabNeeds) => good(needs, { nofileHard: 20_000, canRaiseNofile: false });

    it('runs daemons whose need fits under its limit, and says it gives less than the units ask', () => {
      expect(preflightProblems(shipped, capless(shipped))).toEqual([]);
      expect(nofileNote(shipped, capless(shipped))).toBe(
        'file limits: units ask for up to LimitNOFILE=1048576, and this machine gives at most 20000 (this root lacks CAP_SYS_RESOURCE, its hard limit is 20000); enough for what their daemons need (haproxy 17024)',
      );
    });

    it('refuses a haproxy whose need does not fit (maxConn 9489: 2 x 9489 + 1024 = 20002)', () => {
      const needs = withMaxConn(9489);
      expect(preflightProblems(needs, capless(needs))).toEqual([
        'lab: haproxy on ams-lb1, ams-lb2 cannot start with fewer than 20002 open files, and this machine gives at most 20000: run the lab with CAP_SYS_RESOURCE (this root lacks it, so 20000, its own hard limit, is the most it can give), or lower haproxy.maxConn of site ams from 9489 to 9488 in a copy of the model for the lab',
      ]);
    });
  });

  it('refuses a sysctl that is not a network namespace\'s: the lab never changes the machine\'s own', () => {
    const needs: LabNeeds = { programs: [], nofile: [], sysctls: [{ key: 'fs.nr_open', users: ['/etc/sysctl.d/60-anycdn.conf on ams-lb1'] }] };
    expect(preflightProblems(needs, good(needs))).toEqual([
      "lab: fs.nr_open (set by /etc/sysctl.d/60-anycdn.conf on ams-lb1) is the machine's own setting, not a network namespace's: the lab changes no setting of the machine; set it on the machine yourself, or leave it out of the model",
    ]);
  });
});
