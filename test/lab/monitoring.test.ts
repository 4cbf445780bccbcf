// Monitoring in the lab (issue 15): the shipped sites, with Prometheus' scrape subnets narrowed to
// two lb hosts, run for real in network namespaces, and one exporter of each kind is scraped as
// Prometheus would scrape it: node, bird, haproxy's own /metrics, nginx, Squid and the health
// checker's /metrics. Every metric the rendered alert rules read is among what they serve, so a
// renamed metric fails here rather than as an alert that never fires. haproxy and the checker
// refuse a source outside monitoring.scrapeFrom, and no exporter answers on the VIP or the
// anycast address.
//
// Every wait is bounded; traffic stays inside the lab's namespaces; the lab is removed (by PID and
// namespace, lib/lab/down.ts) before and after, even when a test fails.
import { labUpEdited } from './bring-up.ts';
import { anycastFamilies, type ExporterKind } from '../../lib/model/facts.ts';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown } from '../../lib/lab/down.ts';
import { waitFor } from '../../lib/lab/exec.ts';
import { nsOf } from '../../lib/lab/plan.ts';
import { renderPlans } from '../../lib/render/index.ts';
import { alertRules } from '../../lib/render/prometheus.ts';
import { run } from '../../lib/run.ts';
import { missingBinary, missingLabDaemon, missingRoot } from '../helpers/daemons.ts';
import { loadEdited } from '../helpers/topology.ts';

const skip =
  missingRoot() ??
  missingLabDaemon() ??
  [
    ['/usr/bin/prometheus-node-exporter', 'prometheus-node-exporter'],
    ['/usr/bin/prometheus-bird-exporter', 'prometheus-bird-exporter'],
    ['/usr/bin/prometheus-nginx-exporter', 'prometheus-nginx-exporter'],
    ['/usr/bin/prometheus-squid-exporter', 'prometheus-squid-exporter'],
  ]
    .map(([b, p]) => missingBinary(b!, p!))
    .find(Boolean);

/** Prometheus "runs" on ams-lb1, and nyc-lb1 may scrape too; ams-lb2 may not. */
const SCRAPE_FROM = ['198.51.100.11/32', '198.51.100.75/32'];
const edit = (x: Record<string, string>) => {
  const edited = x['sites/cdn.yaml']!.replace(/monitoring:\n  prometheus: .*\n  scrapeFrom: .*\n/, `monitoring:\n  prometheus: 198.51.100.11\n  scrapeFrom: [${SCRAPE_FROM.join(', ')}]\n`);
  if (edited === x['sites/cdn.yaml']) throw new Error('the edit of sites/cdn.yaml did not apply: the shipped monitoring section changed shape');
  x['sites/cdn.yaml'] = edited;
};
const t = loadEdited(edit);
const host = (name: string) => t.sites.flatMap((s) => s.hosts).find((h) => h.name === name)!;

/** One exporter of each kind: [kind, the host it runs on, the host Prometheus scrapes from, a sample it must serve]. */
type Kind = ExporterKind | 'healthcheck';
const TARGETS: [Kind, string, string, RegExp][] = [
  ['node', 'ams-cache1', 'ams-lb1', /^node_cpu_seconds_total\{/m],
  ['bird', 'ams-lb1', 'ams-lb1', /^bird_protocol_up\{[^}]*name="bgp_transit1"[^}]*proto="BGP"[^}]*\} 1$/m],
  ['healthcheck', 'ams-lb2', 'ams-lb1', /^anycdn_anycast_state\{state="announced"\} 1$/m],
  ['haproxy', 'ams-lb2', 'ams-lb1', /^haproxy_server_status\{proxy="caches",server="ams-cache1",state="UP"\} 1$/m],
  ['nginx', 'ams-cache2', 'ams-lb1', /^nginx_up 1$/m],
  ['squid', 'nyc-cache1', 'nyc-lb1', /^squid_up\{[^}]*\} 1$/m],
];

/** GET a URL from inside a host's namespace: the status and the body (status 0: no answer). */
async function scrape(fromHost: string, url: string): Promise<{ status: number; body: string }> {
  const r = await run('ip', ['netns', 'exec', nsOf.host(fromHost), 'curl', '-s', '--max-time', '3', '--noproxy', '*', '-w', '\n%{http_code}', url], { timeoutMs: 5000 });
  const at = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(at + 1)) || 0, body: r.stdout.slice(0, Math.max(0, at)) };
}
const plans = renderPlans(t);
/** The port of a host's exporter of a kind, as its plan's endpoints say. */
function exporterPort(kind: Kind, on: string): number {
  const e = plans.find((p) => p.host === on)?.endpoints.find((x) => x.purpose === `exporter-${kind}`);
  if (!e?.port) throw new Error(`${on} has no ${kind} exporter`);
  return e.port;
}
const url = (kind: Kind, on: string, address = host(on).address) => `http://${address}:${exporterPort(kind, on)}/metrics`;

let sitesDir = '';
/** Each kind's body, as scraped once it served its sample. */
const bodies = new Map<Kind, string>();

describe.skipIf(skip)('lab: every kind of exporter, scraped for real', () => {
  beforeAll(async () => {
    sitesDir = await labUpEdited(t, 'monitoring', edit);
  }, 120_000);

  afterAll(async () => {
    try {
      await labDown();
    } finally {
      if (sitesDir) rmSync(sitesDir, { recursive: true, force: true });
    }
  }, 60_000);

  it.each(TARGETS)('%s exporter on %s, scraped from %s', async (kind, on, from, sample) => {
    // BGP sessions come up in about a second, and the nginx exporter retries until nginx answers.
    const got = await waitFor(async () => {
      const r = await scrape(from, url(kind, on));
      return r.status === 200 && sample.test(r.body) ? r.body : undefined;
    }, 20_000, 500);
    const last = got ?? (await scrape(from, url(kind, on)));
    expect(got, `${url(kind, on)} from ${from}: ${typeof last === 'string' ? '' : `status ${last.status}, ${last.body.slice(0, 300)}`}`).toBeDefined();
    bodies.set(kind, got!);
  }, 30_000);

  it('every metric the alert rules read is one an exporter serves', () => {
    expect([...bodies.keys()].sort()).toEqual(TARGETS.map(([k]) => k).sort());
    // up is Prometheus' own; the VRRP gauge comes through node-exporter from the lb hosts (next
    // test), and so does the certificate's notAfter once anycdn-cert-install ran
    // (test/lab/certificates.test.ts scrapes it there and feeds it to the alert rules).
    const served = new Set([...bodies.values()].flatMap((b) => [...b.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((m) => m[1]!)));
    // The metric names in the expressions: not label matchers ({...}, values quoted), not PromQL
    // functions (label_replace(...)).
    const names = (expr: string) => [...expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '').matchAll(/\b([a-z][a-z0-9]*_[a-z0-9_]+)\b(?!\s*\()/g)].map((m) => m[1]!);
    const read = new Set(alertRules(t).flatMap((r) => names(r.expr)));
    const missing = [...read].filter((m) => !served.has(m) && m !== 'anycdn_vrrp_master' && m !== 'anycdn_tls_cert_not_after_seconds').sort();
    expect([...read].length).toBeGreaterThan(8);
    expect(missing).toEqual([]);
  });

  it('exactly one lb host of a site says it holds the VIP (keepalived -> node-exporter textfile)', async () => {
    const masters = await waitFor(async () => {
      const values: number[] = [];
      for (const lb of ['ams-lb1', 'ams-lb2']) {
        const r = await scrape('ams-lb1', url('node', lb));
        const m = /^anycdn_vrrp_master\{[^}]*vrrp_instance="vip_ams"[^}]*\} ([01])$/m.exec(r.body);
        if (!m) return undefined;
        values.push(Number(m[1]));
      }
      return values;
    }, 10_000, 500);
    expect(masters?.reduce((a, b) => a + b, 0)).toBe(1);
  }, 20_000);

  it('haproxy and the checker refuse a source outside monitoring.scrapeFrom, and the Go exporters are firewalled from it', async () => {
    expect((await scrape('ams-lb2', url('haproxy', 'ams-lb1'))).status).toBe(403);
    expect((await scrape('ams-lb2', url('healthcheck', 'ams-lb1'))).status).toBe(403);
    expect((await scrape('ams-lb1', url('haproxy', 'ams-lb2'))).status).toBe(200);
    // The Go exporters have no allow list: the host's nftables table drops the others' packets.
    expect((await scrape('ams-lb1', url('node', 'ams-lb2'))).status).toBe(200);
    for (const kind of ['node', 'bird'] as const) expect((await scrape('ams-lb2', url(kind, 'ams-lb1'))).status, `${kind} on ams-lb1 from ams-lb2`).toBe(0);
    expect((await scrape('ams-lb2', url('nginx', 'ams-cache2'))).status, 'nginx exporter from ams-lb2').toBe(0);
  }, 20_000);

  it('no exporter answers on the image VIP or the anycast address', async () => {
    const vip = t.sites.find((s) => s.id === 'ams')!.vip.address;
    const anycast = anycastFamilies(t)[0]!.address;
    for (const kind of ['node', 'bird', 'haproxy'] as const) {
      expect((await scrape('ams-lb1', url(kind, 'ams-lb1', vip))).status, `${kind} on the VIP`).toBe(0);
      expect((await scrape('ams-lb1', url(kind, 'ams-lb1', anycast))).status, `${kind} on the anycast address`).toBe(0);
    }
  });
});
