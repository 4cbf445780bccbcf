// Monitoring in the lab (issue 15): the shipped sites, with Prometheus' scrape subnets narrowed to
// two lb hosts, run for real in network namespaces, and one exporter of each kind is scraped as
// Prometheus would scrape it: node, bird, haproxy's own /metrics, nginx, Squid and the health
// checker's /metrics. Every metric the rendered alert rules read is among what they serve, so a
// renamed metric fails here rather than as an alert that never fires. haproxy and the checker
// refuse a source outside monitoring.scrapeFrom, and no exporter answers on the VIP or the
// anycast address.
//
// Two of issue 25's alerts are shown end to end: mtail on an nginx cache counts a miss and then a
// hit of the same image, and a real Prometheus in ams-lb1's network namespace, with the rendered
// scrape config and rules, raises HealthcheckerDown (and nothing else for that host) after a
// checker is killed.
//
// Every wait is bounded; traffic stays inside the lab's namespaces; the lab is removed (by PID and
// namespace, lib/lab/down.ts) before and after, even when a test fails.
import { labUpEdited } from './bring-up.ts';
import { anycastFamilies, type ExporterKind } from '../../lib/model/facts.ts';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { parse, stringify } from 'yaml';
import { isAlive, killUnitTree } from '../../lib/lab/control.ts';
import { startDetached } from '../../lib/lab/exec.ts';
import { ruleGroups } from '../../lib/render/alerts/index.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown } from '../../lib/lab/down.ts';
import { waitFor } from '../../lib/lab/exec.ts';
import { nsOf } from '../../lib/lab/plan.ts';
import { renderPlans } from '../../lib/render/index.ts';
import { renderPrometheus } from '../../lib/render/prometheus.ts';
import { run } from '../../lib/run.ts';
import { NGINX_LOG_METRICS } from '../../lib/render/mtail.ts';
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
    ['/usr/bin/mtail', 'mtail'],
    ['/usr/bin/prometheus', 'prometheus'],
  ]
    .map(([b, p]) => missingBinary(b!, p!))
    .find(Boolean);

/** Prometheus "runs" on ams-lb1, and nyc-lb1 may scrape too; ams-lb2 may not. */
const SCRAPE_FROM = ['198.51.100.11/32', '198.51.100.75/32'];
const edit = (x: Record<string, string>) => {
  // Scrapes every 5 s (the model's least), so the alerts' `for:` is most of the wait.
  const edited = x['sites/cdn.yaml']!.replace(/monitoring:\n  prometheus: .*\n  scrapeFrom: .*\n/, `monitoring:\n  prometheus: 198.51.100.11\n  scrapeFrom: [${SCRAPE_FROM.join(', ')}]\n  scrapeIntervalSec: 5\n`);
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
  ['mtail', 'ams-cache2', 'ams-lb1', /^anycdn_nginx_upstream_requests_total \d+$/m],
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

const NGINX_REQUESTS = NGINX_LOG_METRICS.cacheRequests;
/** An image no other test of this lab asks for: its first fetch at a cache is a miss. */
const IMAGE = 'img/0117.png';

/** The Prometheus this file runs in ams-lb1's network namespace, and its directory. */
let prometheus: ChildProcess | undefined;
let promDir = '';
const PROM_LISTEN = '127.0.0.1:9090';

/** GET a path of that Prometheus' HTTP API, from inside ams-lb1's namespace: the parsed JSON, or undefined. */
async function promApi(path: string): Promise<any> {
  const r = await run('ip', ['netns', 'exec', nsOf.host('ams-lb1'), 'curl', '-s', '--max-time', '3', '--noproxy', '*', `http://${PROM_LISTEN}${path}`], { timeoutMs: 5000 });
  try {
    return JSON.parse(r.stdout);
  } catch {
    return undefined;
  }
}

describe.skipIf(skip)('lab: every kind of exporter, scraped for real', () => {
  beforeAll(async () => {
    sitesDir = await labUpEdited(t, 'monitoring', edit);
  }, 120_000);

  afterAll(async () => {
    try {
      const pid = prometheus?.pid;
      if (pid && isAlive(pid)) {
        process.kill(pid, 'SIGTERM');
        await waitFor(async () => (isAlive(pid) ? undefined : true), 10_000, 100);
        if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      }
      await labDown();
    } finally {
      if (sitesDir) rmSync(sitesDir, { recursive: true, force: true });
      if (promDir) rmSync(promDir, { recursive: true, force: true });
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
    // (test/lab/certificates.test.ts scrapes it there). Every metric name the rules read starts with its exporter's prefix; the records
    // (level:metric:operations) and label names do not.
    const served = new Set([...bodies.values()].flatMap((b) => [...b.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((m) => m[1]!)));
    // mtail exports a labelled counter only once it counted something; the next test makes a hit and a miss.
    served.add(NGINX_REQUESTS);
    const exprs = ruleGroups(t).flatMap((g) => g.rules.map((r) => r.expr));
    const read = new Set(exprs.flatMap((e) => [...e.matchAll(/(?<![\w:])((?:anycdn|node|bird|haproxy|nginx|squid)_[a-z0-9_]+)\b(?!:)/g)].map((m) => m[1]!)));
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
    expect((await scrape('ams-lb2', url('mtail', 'ams-cache2'))).status, 'mtail from ams-lb2').toBe(0);
  }, 20_000);

  it('no exporter answers on the image VIP or the anycast address', async () => {
    const vip = t.sites.find((s) => s.id === 'ams')!.vip.address;
    const anycast = anycastFamilies(t)[0]!.address;
    for (const kind of ['node', 'bird', 'haproxy'] as const) {
      expect((await scrape('ams-lb1', url(kind, 'ams-lb1', vip))).status, `${kind} on the VIP`).toBe(0);
      expect((await scrape('ams-lb1', url(kind, 'ams-lb1', anycast))).status, `${kind} on the anycast address`).toBe(0);
    }
  });
  it('mtail counts an nginx miss, then a hit, of the same image', async () => {
    const cache = host('ams-cache1');
    const counts = async () => {
      const r = await scrape('ams-lb1', url('mtail', 'ams-cache1'));
      const n = (re: RegExp) => Number(re.exec(r.body)?.[1] ?? 0);
      return {
        status: r.status,
        miss: n(new RegExp(`^${NGINX_REQUESTS}\\{cache_status="MISS"\\} (\\d+)$`, 'm')),
        hit: n(new RegExp(`^${NGINX_REQUESTS}\\{cache_status="HIT"\\} (\\d+)$`, 'm')),
        fetches: n(new RegExp(`^${NGINX_LOG_METRICS.upstreamRequests} (\\d+)$`, 'm')),
      };
    };
    const before = await counts();
    expect(before.status).toBe(200);
    const seen: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await run('ip', ['netns', 'exec', nsOf.host('ams-lb1'), 'curl', '-s', '-o', '/dev/null', '-D', '-', '--max-time', '5', '--noproxy', '*', '-H', `Host: ${t.cdn.imageHost}`, `http://${cache.address}/${IMAGE}`], { timeoutMs: 8000 });
      seen.push(`${/^HTTP\/[\d.]+ (\d{3})/m.exec(r.stdout)?.[1]} ${/^x-cache-status: (\w+)/im.exec(r.stdout)?.[1]}`);
    }
    expect(seen).toEqual(['200 MISS', '200 HIT']);
    // mtail reads the log as nginx writes it (it polls every 250 ms).
    const want = { status: 200, miss: before.miss + 1, hit: before.hit + 1, fetches: before.fetches + 1 };
    const after = await waitFor(async () => {
      const c = await counts();
      return c.miss === want.miss && c.hit === want.hit && c.fetches === want.fetches ? c : undefined;
    }, 10_000, 250);
    expect(after ?? (await counts())).toEqual(want);
  }, 30_000);

  // Last: it leaves ams-lb2 without its checker.
  it('a killed health checker raises HealthcheckerDown in a real Prometheus, and no other alert for that failure', async () => {
    // The rendered prometheus.yml and rules, as the server would have them; only the rules' path is this directory's.
    promDir = mkdtempSync(join(tmpdir(), 'anycdn-lab-prometheus-'));
    const files = renderPrometheus(t);
    const rules = join(promDir, 'anycdn-rules.yml');
    writeFileSync(rules, files.find((f) => f.path === PATHS.prometheusRules)!.content);
    const config = parse(files.find((f) => f.path === PATHS.prometheusConf)!.content);
    expect(config.rule_files).toEqual([PATHS.prometheusRules]);
    config.rule_files = [rules];
    writeFileSync(join(promDir, 'prometheus.yml'), stringify(config));
    mkdirSync(join(promDir, 'data'));
    prometheus = startDetached(
      'ip',
      ['netns', 'exec', nsOf.host('ams-lb1'), '/usr/bin/prometheus', `--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=${PROM_LISTEN}`],
      join(promDir, 'prometheus.log'),
    );
    const q = (expr: string) => `/api/v1/query?query=${encodeURIComponent(expr)}`;
    // Scraped and up before the kill, and the rules loaded.
    const up = await waitFor(async () => ((await promApi(q('up{job="anycdn-healthcheck",host="ams-lb2"} == 1')))?.data?.result?.length === 1 ? true : undefined), 30_000, 1000);
    expect(up, 'Prometheus scraped the checker on ams-lb2').toBe(true);
    const groups = (await promApi('/api/v1/rules'))?.data?.groups?.map((g: { name: string }) => g.name);
    expect(groups?.sort()).toEqual(ruleGroups(t).map((g) => g.name).sort());

    await killUnitTree('ams-lb2', 'anycdn-healthcheck');
    const t0 = Date.now();
    type Alert = { labels: Record<string, string>; state: string };
    // What would page twice for this one failure: the host, the checker's job as an exporter, its state.
    const doubles = new Set<string>();
    const firing = await waitFor(async () => {
      const alerts: Alert[] = (await promApi('/api/v1/alerts'))?.data?.alerts ?? [];
      for (const a of alerts.filter((x) => x.labels.host === 'ams-lb2')) {
        if (a.labels.alertname === 'HostDown' || a.labels.alertname === 'AnycastWithdrawn' || (a.labels.alertname === 'ExporterDown' && a.labels.job === 'anycdn-healthcheck')) doubles.add(`${a.labels.alertname} ${a.state}`);
      }
      return alerts.find((a) => a.labels.alertname === 'HealthcheckerDown' && a.labels.host === 'ams-lb2' && a.state === 'firing');
    }, 150_000, 2000);
    const sec = ((Date.now() - t0) / 1000).toFixed(0);
    expect(firing, 'HealthcheckerDown firing for ams-lb2 within 150 s of the kill').toBeDefined();
    expect(firing!.labels).toMatchObject({ severity: 'critical', job: 'anycdn-healthcheck', site: 'ams' });
    expect([...doubles]).toEqual([]);
    console.log(`HealthcheckerDown firing ${sec} s after the checker on ams-lb2 was killed (scrape and evaluation every 5 s, for: 1m)`);
  }, 200_000);
});
