// The lab's shape (lib/lab/plan.ts) and its routers' bird (router-bird.ts) for models `validate`
// accepts beyond the shipped one: a multihop carrier outside the site's subnets, and an aws site
// with two subnets. Pure: no namespace is made (test/lab/models.test.ts runs them).
import { describe, expect, it } from 'vitest';
import { nsOf, planLab } from '../../lib/lab/plan.ts';
import { hopFloorRules } from '../../lib/lab/network.ts';
import { routerBirdConf } from '../../lib/lab/router-bird.ts';
import { renderBird } from '../../lib/render/bird.ts';
import { awsTwoSubnets, CARRIER, multihopCarrier } from '../helpers/lab-models.ts';
import { loadEdited } from '../helpers/topology.ts';

/** The stanza of a bird config that starts with `head` and ends at its closing brace. */
function stanza(conf: string, head: string): string {
  const lines = conf.split('\n');
  const start = lines.indexOf(head);
  if (start < 0) throw new Error(`no ${head} in:\n${conf}`);
  return lines.slice(start, lines.indexOf('}', start) + 1).join('\n');
}

describe('the shipped sites', () => {
  const plan = planLab(loadEdited());

  it('give each site one segment, its router every subnet\'s gateway (the peers\' own addresses where the model has them)', () => {
    expect(plan.bridges).toEqual([
      { ns: 'acdn-core', name: 'br0' },
      { ns: 'acdn-sw-ams', name: 'br0' },
      { ns: 'acdn-sw-nyc', name: 'br0' },
      { ns: 'acdn-sw-sin', name: 'br0' },
    ]);
    expect(plan.links.filter((l) => l.a.ifname.startsWith('site')).map((l) => [l.a.ns, l.a.ifname, l.a.addrs, l.b.bridge])).toEqual([
      ['acdn-rt-ams', 'site', ['198.51.100.1/26', '2001:db8:a::1/64'], 'br0'],
      ['acdn-rt-nyc', 'site', ['198.51.100.65/26', '2001:db8:b::1/64'], 'br0'],
      ['acdn-rt-sin', 'site', ['10.30.0.1/24'], 'br0'],
    ]);
    expect(plan.loopbacks).toEqual([]);
    expect(plan.hopFloors).toEqual([]);
    expect(hopFloorRules(plan)).toEqual([]);
  });
});

describe('a multihop carrier outside the site subnets', () => {
  const t = loadEdited(multihopCarrier);
  const plan = planLab(t);
  const nyc = plan.routers.find((r) => r.site === 'nyc')!;

  it('is an address of the router\'s own, on lo, and the hosts reach it through their gateway', () => {
    expect(plan.loopbacks).toEqual([{ ns: 'acdn-rt-nyc', addr: '198.18.20.1/32' }]);
    // The IPv4 gateway is the lowest free address of the subnet, as with no IPv4 peer at all.
    expect(plan.links.find((l) => l.a.ns === nyc.ns && l.a.ifname === 'site')!.a.addrs).toEqual(['198.51.100.65/26', '2001:db8:b::1/64']);
    expect(plan.hosts.filter((h) => h.site === 'nyc').map((h) => [h.host, h.gateway4, h.gateway6])).toEqual([
      ['nyc-cache1', '198.51.100.65', undefined],
      ['nyc-cache2', '198.51.100.65', undefined],
      ['nyc-lb1', '198.51.100.65', '2001:db8:b::1'],
      ['nyc-lb2', '198.51.100.65', '2001:db8:b::1'],
    ]);
    expect(plan.routes.filter((r) => r.ns === nsOf.host('nyc-lb1'))).toEqual([
      { ns: 'acdn-h-nyc-lb1', args: ['route', 'add', 'default', 'via', '198.51.100.65'] },
      { ns: 'acdn-h-nyc-lb1', args: ['route', 'add', 'default', 'via', '2001:db8:b::1'] },
    ]);
  });

  it('runs the other side of each session from that address, multihop and with multihop BFD, as the model says', () => {
    const conf = routerBirdConf(t, plan, nyc);
    // A multihop session's BFD is multihop (RFC 5883); its timers are the session's own.
    expect(stanza(conf, 'protocol bgp site_nyc_lb1_carrier {')).toBe(`protocol bgp site_nyc_lb1_carrier {
	local 198.18.20.1 as 64602;
	neighbor 198.51.100.75 as ${t.cdn.bgp.originAsn};
	hold time 9;
	keepalive time 3;
	connect delay time 1;
	error wait time 1, 5;
	multihop 2;
	bfd {
		min rx interval 100 ms;
		min tx interval 100 ms;
		multiplier 3;
	};
	ipv4 {
		import filter from_site4_as64602;
		import keep filtered on;
		export none;
	};
}`);
    expect(stanza(conf, 'protocol bfd {')).toBe('protocol bfd {\n}');
  });
});

describe('a multihop carrier: as many hops away as the model says, GTSM off, BFD as the model gives it', () => {
  /** The carrier `hops` away: multihop ${hops}. */
  const at = (hops: number) =>
    loadEdited((x) => {
      multihopCarrier(x);
      const from = `      multihop: ${CARRIER.multihop}\n`;
      if (!x['sites/nyc.yaml']!.includes(from)) throw new Error('the multihop edit did not apply');
      x['sites/nyc.yaml'] = x['sites/nyc.yaml']!.replace(from, `      multihop: ${hops}\n`);
    });

  it.each([2, 5])('multihop %i: the router drops what reaches the carrier\'s address with a TTL below it (the routers a shorter TTL would die at), counted', (hops) => {
    const plan = planLab(at(hops));
    expect(plan.hopFloors).toEqual([{ ns: 'acdn-rt-nyc', address: CARRIER.address, minTtl: hops }]);
    expect(hopFloorRules(plan)).toEqual([
      {
        ns: 'acdn-rt-nyc',
        script: `table inet lab_hops {
	chain input {
		type filter hook input priority filter; policy accept;
		ip daddr ${CARRIER.address} ip ttl < ${hops} counter drop
	}
}
`,
      },
    ]);
  });

  it('both ends send with the model\'s TTL and neither runs GTSM (which would want TTL 255 from a peer hops away); BFD on both with the model\'s timers', () => {
    const t = at(3);
    const nyc = t.sites.find((s) => s.id === 'nyc')!;
    const host = renderBird(t, nyc, nyc.hosts.find((h) => h.name === 'nyc-lb1')!)[0]!.content;
    expect(stanza(host, 'protocol bgp bgp_carrier from upstream {')).toBe(`protocol bgp bgp_carrier from upstream {
	description "carrier AS64602";
	local 198.51.100.75 as ${t.cdn.bgp.originAsn};
	neighbor ${CARRIER.address} as ${CARRIER.asn};
	multihop 3;
	bfd {
		min rx interval 100 ms;
		min tx interval 100 ms;
		multiplier 3;
	};
	ipv4 {
		import none;
		export filter export_carrier;
	};
}`);
    const router = routerBirdConf(t, planLab(t), planLab(t).routers.find((r) => r.site === 'nyc')!);
    const session = stanza(router, 'protocol bgp site_nyc_lb1_carrier {');
    expect(session).toContain('\tmultihop 3;\n');
    expect(session).toContain('\tbfd {\n\t\tmin rx interval 100 ms;\n\t\tmin tx interval 100 ms;\n\t\tmultiplier 3;\n\t};\n');
    expect(`${host}\n${router}`).not.toMatch(/ttl security/);
  });
});

describe('an aws site with two subnets', () => {
  const t = loadEdited(awsTwoSubnets);
  const plan = planLab(t);

  it('gets a segment (bridge) per subnet, as EC2 subnets are, each with the VPC router at its network address + 1', () => {
    expect(plan.bridges.filter((b) => b.ns === 'acdn-sw-sin')).toEqual([
      { ns: 'acdn-sw-sin', name: 'br0' },
      { ns: 'acdn-sw-sin', name: 'br1' },
    ]);
    expect(plan.links.filter((l) => l.b.ns === 'acdn-sw-sin').map((l) => [l.a.ns, l.a.ifname, l.a.addrs, l.b.bridge])).toEqual([
      ['acdn-h-sin-lb1', 'ens5', ['10.30.0.11/24'], 'br0'],
      ['acdn-h-sin-lb2', 'ens5', ['10.30.0.12/24'], 'br0'],
      ['acdn-rt-sin', 'site', ['10.30.0.1/24'], 'br0'],
      ['acdn-h-sin-cache1', 'ens5', ['10.30.1.21/24'], 'br1'],
      ['acdn-h-sin-cache2', 'ens5', ['10.30.1.22/24'], 'br1'],
      ['acdn-rt-sin', 'site1', ['10.30.1.1/24'], 'br1'],
    ]);
    expect(plan.hosts.filter((h) => h.site === 'sin').map((h) => [h.host, h.gateway4])).toEqual([
      ['sin-lb1', '10.30.0.1'],
      ['sin-lb2', '10.30.0.1'],
      ['sin-cache1', '10.30.1.1'],
      ['sin-cache2', '10.30.1.1'],
    ]);
    expect(plan.routers.find((r) => r.site === 'sin')!.siteIfnames).toEqual(['site', 'site1']);
  });

  it('is reachable from the origins and, through the router\'s direct routes on every site interface, from the other sites', () => {
    expect(plan.routes.filter((r) => r.ns === 'acdn-origin' && r.args[2]!.startsWith('10.30.'))).toEqual([
      { ns: 'acdn-origin', args: ['route', 'add', '10.30.0.0/24', 'via', '100.64.0.3'] },
      { ns: 'acdn-origin', args: ['route', 'add', '10.30.1.0/24', 'via', '100.64.0.3'] },
    ]);
    expect(stanza(routerBirdConf(t, plan, plan.routers.find((r) => r.site === 'sin')!), 'protocol direct {')).toBe(`protocol direct {
	ipv4;
	ipv6;
	interface "site*" , "client" , "core";
}`);
  });
});
