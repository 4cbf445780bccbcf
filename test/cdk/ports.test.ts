// Every connection a rendered config makes or accepts, read from the rendered files themselves,
// against the security groups of every host of every aws site. The renderers and the security
// groups are written separately; this test is where they must agree. A port a config uses that no
// rule allows is a site that renders, validates and synthesizes, and then cannot serve.
import { describe, expect, it } from 'vitest';
import { isIP, isIPv4 } from 'node:net';
import { userData } from '../../lib/cloud/userdata.ts';
import { contains, parsePrefix } from '../../lib/model/net.ts';
import { groupsOf, securityGroups, type SecurityGroupShape, type SecurityRule } from '../../lib/cloud/security.ts';
import { lbHosts } from '../../lib/model/facts.ts';
import type { Host, Site, Topology } from '../../lib/model/schema.ts';
import { renderPlans, renderTopology } from '../../lib/render/index.ts';
import type { RenderedFile } from '../../lib/render/types.ts';
import { edit, load, shipped, type Texts } from '../model/fixtures.ts';

type Proto = 'tcp' | 'udp' | 'vrrp';

/** A connection a host opens (to an address or a DNS name), as a config states it. */
interface Outbound {
  proto: Proto;
  port?: number;
  to: string;
  why: string;
}

/** An address and port a host accepts connections on. */
interface Listen {
  proto: Proto;
  port: number;
  address: string;
  why: string;
}

/** host:port or [v6]:port or host (with a default port). */
function hostPort(text: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(text);
  if (!m) throw new Error(`cannot read ${text}`);
  if (isIP(m[1]!) === 6 && !text.startsWith('[')) return { host: text, port: defaultPort };
  return { host: m[1]!, port: m[2] === undefined ? defaultPort : Number(m[2]) };
}

/** What the rendered files of one host connect to and listen on, read from their text. */
function connections(files: RenderedFile[]): { out: Outbound[]; listen: Listen[] } {
  const out: Outbound[] = [];
  const listen: Listen[] = [];
  for (const f of files) {
    const lines = f.content.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    const where = `${f.host}${f.path}`;
    if (f.path === '/etc/haproxy/haproxy.cfg') {
      for (const l of lines) {
        let m = /^server \S+ (\S+)/.exec(l);
        if (m) out.push({ proto: 'tcp', ...port(hostPort(m[1]!, 80)), why: `${where}: ${l}` });
        m = /^bind (\S+)/.exec(l);
        if (m) listen.push({ proto: 'tcp', ...listenOf(hostPort(m[1]!, 80)), why: `${where}: ${l}` });
      }
    }
    if (f.path === '/etc/nginx/nginx.conf') {
      for (const l of lines) {
        let m = /^server ([^\s;]+)[\s;]/.exec(l);
        if (m) out.push({ proto: 'tcp', ...port(hostPort(m[1]!, 80)), why: `${where}: ${l}` });
        m = /^listen ([^\s;]+)/.exec(l);
        if (m) listen.push({ proto: 'tcp', ...listenOf(hostPort(m[1]!, 80)), why: `${where}: ${l}` });
      }
    }
    if (f.path === '/etc/squid/squid.conf') {
      for (const l of lines) {
        let m = /^cache_peer (\S+) parent (\d+) /.exec(l);
        if (m) out.push({ proto: 'tcp', to: m[1]!, port: Number(m[2]), why: `${where}: ${l}` });
        m = /^https?_port (\S+)/.exec(l);
        if (m) listen.push({ proto: 'tcp', ...listenOf(hostPort(m[1]!, 3128)), why: `${where}: ${l}` });
      }
    }
    if (f.path === '/etc/keepalived/keepalived.conf') {
      const peers = /unicast_peer \{([^}]*)\}/.exec(f.content);
      for (const a of peers?.[1]!.split(/\s+/).filter((x) => x !== '') ?? []) {
        out.push({ proto: 'vrrp', to: a, why: `${where}: unicast_peer ${a}` });
        listen.push({ proto: 'vrrp', port: 0, address: a, why: `${where}: VRRP adverts from ${a}` });
      }
    }
    if (f.path === '/etc/knot/knot.conf') {
      const m = /listen: \[([^\]]*)\]/.exec(f.content);
      for (const item of m?.[1]!.split(',').map((x) => x.trim().replace(/"/g, '')) ?? []) {
        const [address, p] = item.split('@');
        for (const proto of ['udp', 'tcp'] as const) listen.push({ proto, port: Number(p), address: address!, why: `${where}: listen ${item}` });
      }
    }
    if (f.path === '/etc/bird/bird.conf') {
      for (const l of lines) {
        const m = /^neighbor (\S+) as/.exec(l);
        if (m) out.push({ proto: 'tcp', port: 179, to: m[1]!, why: `${where}: ${l}` });
      }
    }
    if (f.path.startsWith('/usr/local/sbin/')) {
      for (const m of f.content.matchAll(/'(https?):\/\/([^/']+)/g)) {
        out.push({ proto: 'tcp', ...port(hostPort(m[2]!, m[1] === 'https' ? 443 : 80)), why: `${where}: ${m[0]}'` });
      }
      // The aws CLI (EC2, SSM, Secrets Manager) talks to the regional APIs over https.
      if (/^\s*aws [a-z]/m.test(f.content)) out.push({ proto: 'tcp', port: 443, to: 'AWS APIs', why: `${where}: aws CLI` });
    }
  }
  return { out, listen };
}

const port = (hp: { host: string; port: number }) => ({ to: hp.host, port: hp.port });
const listenOf = (hp: { host: string; port: number }) => ({ address: hp.host, port: hp.port });
/** Whether a rule's peer is a prefix that holds the address `to`. */
const inCidr = (peer: SecurityRule['peer'], to: string): boolean => {
  if (!('cidrIpv4' in peer) || !isIPv4(to)) return false;
  const p = parsePrefix(peer.cidrIpv4);
  return typeof p !== 'string' && contains(p, to);
};
const isLoopback = (a: string) => /^127\./.test(a) || a === '::1' || a === 'localhost';

/** Every flow of every host of every aws site that its security groups do not allow. */
function blocked(t: Topology, groupsFor: (site: Site) => SecurityGroupShape[] = (site) => securityGroups(t, site, renderPlans(t))): string[] {
  const files = renderTopology(t);
  const problems: string[] = [];
  for (const site of t.sites.filter((s) => s.platform === 'aws')) {
    const groups = new Map(groupsFor(site).map((g) => [g.name, g]));
    const groupsOfHost = (h: Host) => groupsOf(h).map((g) => groups.get(g)!);
    const inGroup = (h: Host, g: SecurityGroupShape | undefined) => g !== undefined && groupsOf(h).includes(g.name);
    const groupOf = (r: SecurityRule) => ('group' in r.peer ? groups.get(r.peer.group) : undefined);
    const matches = (r: SecurityRule, proto: Proto, p?: number) => r.protocol === proto && (proto === 'vrrp' || r.port === p);
    /** The hosts of this site an address reaches: a host address, or the VIP (either lb host). */
    const hostsAt = (a: string): Host[] | undefined => {
      if (a === site.vip.address) return lbHosts(site);
      const h = site.hosts.find((x) => x.address === a || x.address6 === a);
      return h ? [h] : undefined;
    };
    for (const host of site.hosts) {
      const { out, listen } = connections(files.filter((f) => f.site === site.id && f.host === host.name));
      expect(out.length + listen.length, `${host.name} has connections to check`).toBeGreaterThan(0);
      for (const c of out) {
        if (isLoopback(c.to) || c.to === host.address) continue;
        const targets = hostsAt(c.to);
        const egress = groupsOfHost(host).some((g) =>
          g.egress.some((r) => matches(r, c.proto, c.port) && ('anyIpv4' in r.peer || inCidr(r.peer, c.to) || (targets !== undefined && targets.every((d) => inGroup(d, groupOf(r)))))),
        );
        if (!egress) problems.push(`${site.id}: no egress from ${host.name} for ${c.proto}${c.port ? `/${c.port}` : ''} to ${c.to} (${c.why})`);
        for (const d of targets ?? []) {
          if (d === host) continue;
          const ingress = groupsOfHost(d).some((g) => g.ingress.some((r) => matches(r, c.proto, c.port) && ('anyIpv4' in r.peer || inGroup(host, groupOf(r)))));
          if (!ingress) problems.push(`${site.id}: no ingress on ${d.name} for ${c.proto}${c.port ? `/${c.port}` : ''} from ${host.name} (${c.why})`);
        }
      }
      for (const l of listen) {
        if (isLoopback(l.address)) continue;
        if (!groupsOfHost(host).some((g) => g.ingress.some((r) => matches(r, l.proto, l.port)))) {
          problems.push(`${site.id}: ${host.name} listens on ${l.proto}${l.proto === 'vrrp' ? '' : `/${l.port}`} at ${l.address}, which no ingress rule admits (${l.why})`);
        }
      }
    }
  }
  return problems.sort();
}

const S = shipped();
const httpOrigin = (url: string, texts: Texts = S): Texts =>
  edit(texts, ['sites/cdn.yaml', 's3:\n    bucket: anycdn-example-images\n    region: eu-west-1', `http:\n    url: ${url}`]);
/** sin is the shield and serves https: the metal sites fetch from it, it goes to the origin. */
const sinShield = (texts: Texts): Texts =>
  edit(texts, ['sites/cdn.yaml', 'shield: ams', 'shield: sin'], [
    'sites/sin.yaml',
    '\nhosts:',
    '\nhaproxy:\n  https:\n    certPath: /etc/haproxy/certs/img.pem\n\nhosts:',
  ]);

describe('egress: port 80 leaves only to what calls it (the caches, the shield), never anywhere', () => {
  it('the base group opens https alone (apt goes over https), so the caches\' port-80 rules are not moot', () => {
    const t = load(S);
    const groups = securityGroups(t, t.sites.find((s) => s.id === 'sin')!, renderPlans(t));
    expect(groups.find((g) => g.name === 'base')!.egress.map((r) => `${r.protocol}/${r.port} ${JSON.stringify(r.peer)}`)).toEqual(['tcp/443 {"anyIpv4":true}']);
    // Port 80 leaves a host only towards a group of the site (haproxy to the caches) or the shield's VIP.
    expect(groups.flatMap((g) => g.egress.filter((r) => r.port === 80).map((r) => `${g.name} ${JSON.stringify(r.peer)}`))).toEqual(['lb {"group":"cache"}', 'cache {"cidrIpv4":"198.51.100.10/32"}']);
    // The shipped sin caches fetch from the ams shield (port 80, its VIP alone) and the S3 origin (443).
    expect(groups.find((g) => g.name === 'cache')!.egress.map((r) => `${r.protocol}/${r.port} ${JSON.stringify(r.peer)}`)).toEqual(['tcp/443 {"anyIpv4":true}', 'tcp/80 {"cidrIpv4":"198.51.100.10/32"}']);
  });

  it('the bootstrap points apt at https before its first update', () => {
    const ud = userData({ host: 'h', region: 'eu-west-1', bundleUrl: 's3://b/k', bundleSha256: 'f'.repeat(64), units: [], packages: ['nginx'], address: { address: '10.0.0.1', subnet: '10.0.0.0/24', router: '10.0.0.1', vpcCidr: '10.0.0.0/24', interface: 'ens5' }, egress: { subnet: '100.64.0.32/27', router: '100.64.0.33' } });
    expect(ud).toContain("\t[ -f \"$f\" ] && sed -i 's#http://#https://#g' \"$f\"\n");
    expect(ud.indexOf("sed -i 's#http://#https://#g'")).toBeLessThan(ud.indexOf('apt_get update'));
  });
});

describe('every port a rendered config uses is open in the security groups of its aws host', () => {
  it.each<[what: string, texts: Texts]>([
    ['the shipped sites (S3 origin, ams shields sin)', S],
    ['an HTTP origin on port 8080 behind the ams shield', httpOrigin('http://origin.example.org:8080')],
    ['an HTTPS origin on port 8443 behind the ams shield', httpOrigin('https://origin.example.org:8443')],
    ['sin as the shield with https, HTTP origin on 8080', sinShield(httpOrigin('http://origin.example.org:8080'))],
    ['no shield, HTTP origin on port 81', edit(httpOrigin('http://origin.example.org:81'), ['sites/cdn.yaml', 'shield: ams', ''])],
  ])('%s', (_what, texts) => {
    expect(blocked(load(texts))).toEqual([]);
  });

  it('finds a port the groups do not open (the check can fail)', () => {
    const t = load(httpOrigin('http://origin.example.org:8080'));
    const sin: Site = t.sites.find((s) => s.id === 'sin')!;
    // The caches as they were before egress followed the origin: base rules only.
    const narrowed: Topology = { ...t, cdn: { ...t.cdn, origin: { http: { url: 'http://origin.example.org' } } } };
    const problems = blocked(t, (site) => securityGroups(narrowed, site, renderPlans(t)));
    expect(problems).toEqual(
      ['sin-cache1', 'sin-cache2'].map((h) => `${sin.id}: no egress from ${h} for tcp/8080 to origin.example.org (${h}/etc/nginx/nginx.conf: server origin.example.org:8080;)`),
    );
  });
});

