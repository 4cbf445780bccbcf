// HostPlan.endpoints: every listener a host's units open, read as whole tables for a host of each
// kind, then held against the rendered configs themselves (read back from their text, as a second
// opinion): every address and port a config binds is an endpoint of its host, and every endpoint
// with an address is bound by its unit's config.
import { describe, expect, it } from 'vitest';
import type { Topology } from '../../lib/model/schema.ts';
import { renderPlans, type Endpoint, type HostPlan } from '../../lib/render/index.ts';
import { loadEdited } from '../helpers/topology.ts';

/** One endpoint as a line: purpose | unit | transport/port | address (or family) | reach | health | job | certificate. */
function line(e: Endpoint): string {
  const r = e.reach;
  const reach =
    r.from === 'world' || r.from === 'host' || r.from === 'operators'
      ? r.from
      : r.from === 'scrape'
        ? `scrape(${r.prefixes.join(' ')}; ${r.enforcedBy})`
        : `${r.from}(${(r.from === 'lb-peer' ? r.hosts : r.addresses).join(' ')})`;
  const health = e.health === undefined ? '' : e.health.kind === 'http' ? `GET ${e.health.path} ${e.health.status}${e.health.host ? ` ${e.health.host}` : ''}` : `dns ${e.health.name}`;
  return [e.purpose, e.unit, `${e.transport}${e.port ? `/${e.port}` : ''}`, e.address ?? `ipv${e.family}`, reach, health, e.metrics ? `job ${e.metrics.job}` : '', e.certPath ?? ''].join(' | ').replace(/( \| )+$/, '');
}

const plans = renderPlans(loadEdited());
const plan = (host: string) => plans.find((p) => p.host === host)!;

describe('the endpoints of the shipped hosts', () => {
  it('an lb and dns host: Knot, bird, the checker, haproxy, keepalived and the exporters', () => {
    const knot = (purpose: string, address: string, reach: string) => ['udp', 'tcp'].map((t) => `${purpose} | knot | ${t}/53 | ${address} | ${reach} | dns img.cdn.example.net`);
    expect(plan('ams-lb1').endpoints.map(line)).toEqual([
      ...['192.0.2.53', '2001:db8:53::53', '203.0.113.53', '2001:db8:54::53'].flatMap((a) => knot('dns-anycast', a, 'world')),
      ...['198.51.100.11', '2001:db8:a::11'].flatMap((a) => knot('dns-host', a, 'world')),
      ...['127.0.0.1', '::1'].flatMap((a) => knot('dns-loopback', a, 'host')),
      'bgp | bird | tcp/179 | ipv4 | bgp-peers(198.51.100.1)',
      'bfd | bird | udp/3784 | ipv4 | bgp-peers(198.51.100.1)',
      'bgp | bird | tcp/179 | ipv6 | bgp-peers(2001:db8:a::1)',
      'bfd | bird | udp/3784 | ipv6 | bgp-peers(2001:db8:a::1)',
      'healthcheck-status | anycdn-healthcheck | tcp/8053 | 198.51.100.11 | world | GET /anycast 200',
      'exporter-healthcheck | anycdn-healthcheck | tcp/8053 | 198.51.100.11 | scrape(198.51.100.192/28; daemon) |  | job anycdn-healthcheck',
      'image-vip-http | haproxy | tcp/80 | 198.51.100.10 | world | GET /healthz 200 img.cdn.example.net',
      'image-vip-http | haproxy | tcp/80 | 2001:db8:a::10 | world | GET /healthz 200 img.cdn.example.net',
      'image-vip-https | haproxy | tcp/443 | 198.51.100.10 | world | GET /healthz 200 img.cdn.example.net |  | /etc/haproxy/certs/img.cdn.example.net.pem',
      'image-vip-https | haproxy | tcp/443 | 2001:db8:a::10 | world | GET /healthz 200 img.cdn.example.net |  | /etc/haproxy/certs/img.cdn.example.net.pem',
      'haproxy-stats | haproxy | tcp/8404 | 127.0.0.1 | host | GET /haproxy-alive 200',
      'exporter-haproxy | haproxy | tcp/9101 | 198.51.100.11 | scrape(198.51.100.192/28; daemon) |  | job haproxy',
      'vrrp | keepalived | vrrp | ipv4 | lb-peer(ams-lb2)',
      'vrrp | keepalived | vrrp | ipv6 | lb-peer(ams-lb2)',
      'exporter-node | prometheus-node-exporter | tcp/9100 | 198.51.100.11 | scrape(198.51.100.192/28; firewall) |  | job node',
      'exporter-bird | prometheus-bird-exporter | tcp/9324 | 198.51.100.11 | scrape(198.51.100.192/28; firewall) |  | job bird',
    ]);
  });

  it('an nginx cache and a Squid cache: the serving port for the lb hosts, the local ones, the exporters', () => {
    expect(plan('ams-cache1').endpoints.map(line)).toEqual([
      'cache-http | nginx | tcp/80 | 198.51.100.21 | site-lb(198.51.100.11 198.51.100.12 198.51.100.10) | GET /.anycdn/health 200 img.cdn.example.net',
      'cache-status | nginx | tcp/80 | 127.0.0.1 | host | GET /nginx_status 200',
      'cache-originals | nginx | tcp/8090 | 127.0.0.1 | host',
      'thumbnailer | anycdn-thumbnailer | tcp/8089 | 127.0.0.1 | host | GET /.anycdn/thumbnailer 200',
      'exporter-node | prometheus-node-exporter | tcp/9100 | 198.51.100.21 | scrape(198.51.100.192/28; firewall) |  | job node',
      'exporter-nginx | prometheus-nginx-exporter | tcp/9113 | 198.51.100.21 | scrape(198.51.100.192/28; firewall) |  | job nginx',
      'exporter-mtail | mtail | tcp/3903 | 198.51.100.21 | scrape(198.51.100.192/28; firewall) |  | job mtail',
    ]);
    expect(plan('nyc-cache1').endpoints.map(line)).toEqual([
      'cache-http | squid | tcp/80 | 198.51.100.85 | site-lb(198.51.100.75 198.51.100.76 198.51.100.74) | GET /squid-internal-static/icons/SN.png 200 img.cdn.example.net',
      'cache-manager | squid | tcp/3128 | 127.0.0.1 | host',
      'exporter-node | prometheus-node-exporter | tcp/9100 | 198.51.100.85 | scrape(198.51.100.192/28; firewall) |  | job node',
      'exporter-squid | prometheus-squid-exporter | tcp/9301 | 198.51.100.85 | scrape(198.51.100.192/28; firewall) |  | job squid',
    ]);
  });

  it('without monitoring no exporter, manager or metrics endpoint; a stats address of its own is for the operators, loopback stays for keepalived', () => {
    const t = loadEdited((x) => {
      x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/\nmonitoring:\n(  .*\n)+/, '\n');
      x['sites/ams.yaml'] = x['sites/ams.yaml']!.replace('haproxy:\n', 'haproxy:\n  statsAddress: 198.51.100.11\n');
    });
    const lines = (host: string) => renderPlans(t).find((p) => p.host === host)!.endpoints.map(line);
    expect(lines('ams-lb1').filter((l) => /^(haproxy|exporter)/.test(l))).toEqual([
      'haproxy-stats | haproxy | tcp/8404 | 198.51.100.11 | operators | GET /haproxy-alive 200',
      'haproxy-stats | haproxy | tcp/8404 | 127.0.0.1 | host | GET /haproxy-alive 200',
    ]);
    expect(lines('nyc-cache1')).toEqual(['cache-http | squid | tcp/80 | 198.51.100.85 | site-lb(198.51.100.75 198.51.100.76 198.51.100.74) | GET /squid-internal-static/icons/SN.png 200 img.cdn.example.net']);
  });
});

/** Every `address:port` a host's rendered configs bind, read from their text, by the unit that owns the file. */
function boundInText(p: HostPlan): string[] {
  const out: string[] = [];
  for (const f of p.files) {
    const text = f.content;
    if (f.path === '/etc/haproxy/haproxy.cfg') for (const m of text.matchAll(/^\s*bind (\S+)/gm)) out.push(`haproxy ${m[1]}`);
    if (f.path === '/etc/nginx/nginx.conf') for (const m of text.matchAll(/^\s*listen "?([^";\s]+)"?/gm)) out.push(`nginx ${m[1]}`);
    if (f.path === '/etc/squid/squid.conf') for (const m of text.matchAll(/^http_port (\S+)/gm)) out.push(`squid ${m[1]}`);
    if (f.path === '/etc/knot/knot.conf') {
      for (const item of /listen: \[([^\]]*)\]/.exec(text)![1]!.split(',').map((x) => x.trim().replace(/"/g, ''))) {
        const [a, port] = item.split('@');
        out.push(`knot ${a!.includes(':') ? `[${a}]` : a}:${port}`);
      }
    }
    if (f.path === '/usr/local/etc/anycdn/thumbnailer.json') {
      const l = (JSON.parse(text) as { listen: { address: string; port: number } }).listen;
      out.push(`anycdn-thumbnailer ${l.address}:${l.port}`);
    }
    if (f.path === '/usr/local/etc/anycdn/healthcheck.json') {
      const s = (JSON.parse(text) as { status: { address: string; port: number } }).status;
      out.push(`anycdn-healthcheck ${s.address}:${s.port}`);
    }
    const unit = /^\/etc\/systemd\/system\/(prometheus-[a-z]+-exporter)\.service$/.exec(f.path)?.[1];
    if (unit) for (const m of text.matchAll(/(?:--web\.listen-address=|-web\.listen-address |-listen )(\S+)/g)) out.push(`${unit} ${m[1]}`);
    if (f.path === '/etc/systemd/system/mtail.service') for (const m of text.matchAll(/--address (\S+) --port (\d+)/g)) out.push(`mtail ${m[1]}:${m[2]}`);
  }
  return [...new Set(out)].sort();
}

/** Every endpoint with an address, as `unit address:port` (Knot's UDP and TCP are one listen item). */
function endpointSockets(p: HostPlan): string[] {
  return [...new Set(p.endpoints.filter((e) => e.address !== undefined && e.port !== undefined).map((e) => `${e.unit} ${e.family === 6 ? `[${e.address}]` : e.address}:${e.port}`))].sort();
}

const variants: [string, Topology][] = [
  ['the shipped sites', loadEdited()],
  ['no monitoring, no transforms, no https', loadEdited((x) => {
    // No https, so no acme either (rules/acme.ts wants a site that serves HTTPS).
    x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/\nmonitoring:\n(  .*\n)+/, '\n').replace(/\nimages:\n(  .*\n)+/, '\n').replace(/\nacme:\n(  .*\n)+/, '\n');
    x['sites/ams.yaml'] = x['sites/ams.yaml']!.replace(/\nhaproxy:\n(  .*\n)+/, '\n');
  })],
  ['a stats address of its own', loadEdited((x) => {
    x['sites/ams.yaml'] = x['sites/ams.yaml']!.replace('haproxy:\n', 'haproxy:\n  statsAddress: 198.51.100.11\n');
  })],
];

describe.each(variants)('%s: the configs bind exactly the endpoints', (_what, t) => {
  const all = renderPlans(t);
  it.each(all.map((p) => [p.host, p] as const))('%s', (_host, p) => {
    const sockets = endpointSockets(p);
    expect(sockets.length).toBeGreaterThan(0);
    expect(boundInText(p)).toEqual(sockets);
  });

  it('no two endpoints of a host take one socket, but the checker serves its metrics on its status port', () => {
    for (const p of all) {
      const seen = new Map<string, Endpoint>();
      for (const e of p.endpoints.filter((x) => x.port !== undefined)) {
        const key = `${e.transport} ${e.address ?? `ipv${e.family}`} ${e.port}`;
        const other = seen.get(key);
        if (other) expect([other.purpose, e.purpose], `${p.host} ${key}`).toEqual(['healthcheck-status', 'exporter-healthcheck']);
        seen.set(key, e);
      }
    }
  });
});

it('the plain variant has none of what it turned off (its edits applied)', () => {
  const purposes = new Set(renderPlans(variants[1]![1]).flatMap((p) => p.endpoints.map((e) => e.purpose)));
  for (const off of ['image-vip-https', 'cache-originals', 'thumbnailer', 'cache-manager', 'exporter-node', 'exporter-healthcheck'] as const) expect(purposes.has(off), off).toBe(false);
  expect(purposes.has('image-vip-http')).toBe(true);
});
