// Certificates in the lab (docs/certificates.md): a real ACME server (Debian's pebble) on the lab's
// core, resolving through the lab's anycast DNS, and the shipped sites with HTTPS at every site and
// acme pointing at it. What it shows:
//
// - the issuer (ams-lb1) obtains a certificate for the image host over DNS-01: its hook updates
//   every site's Knot and waits until each answers, then pebble, whose own anycast DNS answer
//   comes from whichever site its route reaches, validates it;
// - every lb host of every site fetches it, checks it and hands it to haproxy (runtime API); each
//   haproxy serves it (`show ssl cert`), and each site's client gets it at the VIP on 443,
//   verified against pebble's root for the image host;
// - a renewal (pebble now validating through another site) replaces it under HTTPS load at every
//   site: 0 failed requests, no reload, no VIP move; new connections get the new certificate;
// - a VRRP failover to the backup lb serves the same certificate;
// - a certificate that expires in 5 days, installed on an lb host, reaches node-exporter, and
//   Prometheus's rule engine raises CertificateExpiresVerySoon on the scraped sample.
//
// The lab's stand-in for the store (SSM) is a file at acme.certRef's path in each host view: the
// test copies what the issuer stored there into every lb host's view, as SSM would serve it.
// Every wait is bounded; pebble runs in a namespace of this test's own on the lab's core and is
// stopped by PID; the lab is removed (lib/lab/down.ts, by PID and namespace) before and after.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { holdsAddress, killUnitTree, startUnitAgain } from '../../lib/lab/control.ts';
import { labDown } from '../../lib/lab/down.ts';
import { sleep, startDetached } from '../../lib/lab/exec.ts';
import { CORE, nsOf } from '../../lib/lab/plan.ts';
import { labPaths, readState } from '../../lib/lab/state.ts';
import { anycastFamilies, lbHosts } from '../../lib/model/facts.ts';
import { renderPrometheus } from '../../lib/render/prometheus.ts';
import { runbookUrl } from '../../lib/render/alerts/rule.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { shQuote } from '../../lib/render/syntax/shell.ts';
import { must, run } from '../../lib/run.ts';
import { missingBinary, missingLabDaemon, missingRoot } from '../helpers/daemons.ts';
import { loadEdited } from '../helpers/topology.ts';
import { labUpEdited } from './bring-up.ts';
import { labKit } from './kit.ts';
import type { LoadResult } from './loadgen.ts';
import { startLoad } from './watch.ts';

const skip =
  missingRoot() ??
  missingLabDaemon() ??
  missingBinary('/usr/bin/pebble', 'pebble') ??
  missingBinary('/usr/bin/lego', 'lego') ??
  missingBinary('/usr/bin/socat', 'socat') ??
  missingBinary('/usr/bin/promtool', 'prometheus');

/** pebble on the lab's core, beside the origins. */
const ACME = { ns: 'acdn-acme', v4: `${CORE.v4}.210`, port: 14000, mgmt: 15000 };
const CERT_PATH = '/etc/haproxy/certs/img.cdn.example.net.pem';
/** acme.certRef in the lab: a file in each host view (tmpfs), which the test carries between views. */
const STORE = '/run/anycdn-store/img.pem';
const ISSUER = 'ams-lb1';

const edit = (x: Record<string, string>) => {
  const cdn = x['sites/cdn.yaml']!;
  x['sites/cdn.yaml'] = cdn
    .replace(/acme:\n(  .*\n)+/, `acme:\n  directory: https://${ACME.v4}:${ACME.port}/dir\n  email: hostmaster@example.net\n  issuer: ${ISSUER}\n  tsigKeyRef: ssm:/anycdn/acme/tsig\n  certRef: file:${STORE}\n`)
    // Prometheus "runs" on the issuer, so the test can scrape every host's node-exporter from there.
    .replace(/monitoring:\n  prometheus: .*\n  scrapeFrom: .*\n/, 'monitoring:\n  prometheus: 198.51.100.11\n  scrapeFrom: [198.51.100.11/32]\n');
  // HTTPS at every site, not only ams.
  for (const f of ['sites/nyc.yaml', 'sites/sin.yaml']) x[f] = x[f]!.replace(/\nhosts:/, `\nhaproxy:\n  https:\n    certPath: ${CERT_PATH}\n\nhosts:`);
};
const t = loadEdited(edit);
const kit = labKit(t);
const IMG = t.cdn.imageHost;
const ANYCAST = anycastFamilies(t)[0]!.address;
const LBS = t.sites.flatMap((s) => lbHosts(s).map((h) => h.name));

const dir = mkdtempSync(join(tmpdir(), 'anycdn-lab-certs-'));
let sitesDir: string | undefined;
let pebblePid: number | undefined;
const figures: Record<string, unknown> = {};

/** Runs `script` inside a host's view (its mount, network and UTS namespaces), as root. */
async function onHost(host: string, script: string, timeoutMs = 60_000): Promise<{ code: number; out: string }> {
  const holder = readState()?.holders[host];
  if (!holder) throw new Error(`lab: no holder for ${host}`);
  const r = await run('nsenter', ['--target', String(holder), '--mount', '--net', '--uts', '--', 'sh', '-c', script], { timeoutMs });
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

async function inNs(ns: string, args: string[], timeoutMs = 10_000) {
  return run('ip', ['netns', 'exec', ns, ...args], { timeoutMs });
}

/** pebble's route to the rest of the lab: through the router of `site`, so its DNS answer comes from the site that router prefers. */
async function pebbleVia(site: string): Promise<string> {
  const i = t.sites.findIndex((s) => s.id === site);
  await must('ip', ['-n', ACME.ns, 'route', 'replace', 'default', 'via', `${CORE.v4}.${i + 1}`], { timeoutMs: 5000 });
  // Which Knot answers the image host's zone from pebble's place (NSID: site/host).
  const r = await inNs(ACME.ns, ['kdig', '+nsid', '+time=1', '+retry=1', `@${ANYCAST}`, `_acme-challenge.${IMG}`, 'SOA']);
  return /NSID: .*"([^"]+)"/.exec(r.stdout)?.[1] ?? `(no NSID: ${r.stdout.slice(0, 200)})`;
}

async function startPebble(): Promise<string> {
  const caDir = labPaths.originDir(0); // the lab CA, which every host view trusts (lib/lab/origin.ts)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'];
  await must('openssl', ['req', '-x509', ...ec, '-CA', join(caDir, 'ca.pem'), '-CAkey', join(caDir, 'ca.key'), '-subj', '/CN=pebble', '-addext', `subjectAltName=IP:${ACME.v4}`, '-keyout', join(dir, 'pebble.key'), '-out', join(dir, 'pebble.pem')], { timeoutMs: 20_000 });
  writeFileSync(
    join(dir, 'pebble.json'),
    JSON.stringify({ pebble: { listenAddress: `${ACME.v4}:${ACME.port}`, managementListenAddress: `${ACME.v4}:${ACME.mgmt}`, certificate: join(dir, 'pebble.pem'), privateKey: join(dir, 'pebble.key'), httpPort: 5002, tlsPort: 5001, ocspResponderURL: '', externalAccountBindingRequired: false } }),
  );
  await must('ip', ['netns', 'add', ACME.ns], { timeoutMs: 5000 });
  await must('ip', ['link', 'add', 'acme0', 'netns', ACME.ns, 'type', 'veth', 'peer', 'name', 'acme', 'netns', CORE.ns], { timeoutMs: 5000 });
  await must('ip', ['-n', CORE.ns, 'link', 'set', 'acme', 'master', 'br0', 'up'], { timeoutMs: 5000 });
  await must('ip', ['-n', ACME.ns, 'addr', 'add', `${ACME.v4}/24`, 'dev', 'acme0'], { timeoutMs: 5000 });
  await must('ip', ['-n', ACME.ns, 'link', 'set', 'acme0', 'up'], { timeoutMs: 5000 });
  await must('ip', ['-n', ACME.ns, 'link', 'set', 'lo', 'up'], { timeoutMs: 5000 });
  await pebbleVia('nyc');
  // No sleeps between validation steps; every nonce accepted (pebble rejects 5% by default to test clients).
  const child = startDetached('ip', ['netns', 'exec', ACME.ns, 'env', 'PEBBLE_VA_NOSLEEP=1', 'PEBBLE_WFE_NONCEREJECT=0', 'pebble', '-config', join(dir, 'pebble.json'), '-dnsserver', `${ANYCAST}:53`], join(dir, 'pebble.log'));
  pebblePid = child.pid;
  const curl = (path: string) => inNs(ACME.ns, ['curl', '-sf', '--max-time', '2', '--cacert', join(caDir, 'ca.pem'), `https://${ACME.v4}:${ACME.mgmt}${path}`]);
  let root = '';
  for (let i = 0; i < 100 && !root; i++) {
    const r = await curl('/roots/0');
    if (r.code === 0 && r.stdout.includes('BEGIN CERTIFICATE')) root = r.stdout;
    else await sleep(100);
  }
  if (!root) throw new Error(`pebble did not serve its root within 10 s: ${readFileSync(join(dir, 'pebble.log'), 'utf8').slice(-500)}`);
  writeFileSync(join(dir, 'pebble-root.pem'), root);
  // Every host view binds the lab's CA bundle (lib/lab/up.ts): pebble's root joins it in place, so
  // anycdn-cert-check verifies pebble's chains as it would Let's Encrypt's.
  appendFileSync(join(labPaths.originDir(0), 'ca-bundle.crt'), `\n${root}`);
  return root;
}

/** The issuer's run of anycdn-acme-renew, timed. */
async function renew(force: boolean): Promise<{ ms: number; out: string }> {
  const t0 = Date.now();
  const r = await onHost(ISSUER, `${PATHS.acmeRenew}${force ? ' --force' : ''} 2>&1`, 300_000);
  const ms = Date.now() - t0;
  expect(r.code, r.out.slice(-2000)).toBe(0);
  return { ms, out: r.out };
}

/** What SSM would do: the PEM the issuer stored, served to every lb host at the same reference. */
async function distribute(): Promise<string> {
  const r = await onHost(ISSUER, `cat ${STORE}`);
  expect(r.code).toBe(0);
  for (const lb of LBS) {
    if (lb === ISSUER) continue;
    const w = await onHost(lb, `mkdir -p ${shQuote(STORE.replace(/\/[^/]*$/, ''))} && printf '%s' ${shQuote(r.out)} > ${shQuote(STORE)}`);
    expect(w.code, w.out).toBe(0);
  }
  return r.out;
}

/** Prometheus's humanizeDuration for a day or more: `4d 23h 44m 59s`. */
const humanizeDuration = (sec: number) => `${Math.floor(sec / 86400)}d ${Math.floor((sec % 86400) / 3600)}h ${Math.floor((sec % 3600) / 60)}m ${sec % 60}s`;

/** A serial as hex without leading zeros, however openssl, haproxy or Node print it. */
const norm = (serial: string) => serial.toUpperCase().replace(/^0+/, '');
const serialOf = async (pem: string) => norm((await must('openssl', ['x509', '-noout', '-serial'], { input: pem, timeoutMs: 10_000 })).trim().replace(/^serial=/, ''));

/** The serial haproxy on `lb` serves for certPath, by its runtime API. */
async function servedBy(lb: string): Promise<string> {
  const r = await onHost(lb, `echo 'show ssl cert ${CERT_PATH}' | socat -t 5 - UNIX-CONNECT:${PATHS.haproxySocket}`);
  const serial = /^Serial: (\S+)/m.exec(r.out)?.[1];
  return serial ? norm(serial) : `(none: ${r.out.slice(0, 200)})`;
}

/** The serial a site's client gets at the VIP on 443, verified against pebble's root for the image host. */
async function servedAtVip(site: string): Promise<string> {
  const vip = t.sites.find((s) => s.id === site)!.vip.address;
  const r = await run('ip', ['netns', 'exec', nsOf.client(site), 'sh', '-c', `echo | openssl s_client -connect ${vip}:443 -servername ${IMG} -verify_hostname ${IMG} -CAfile ${shQuote(join(dir, 'pebble-root.pem'))} -verify_return_error 2>/dev/null | openssl x509 -noout -serial`], { timeoutMs: 10_000 });
  const serial = r.stdout.trim().replace(/^serial=/, '');
  return serial ? norm(serial) : `(failed: ${r.stderr.slice(0, 200)})`;
}

describe.skipIf(skip)('lab: certificates through ACME DNS-01 at every site', () => {
  let first = '';

  beforeAll(async () => {
    sitesDir = await labUpEdited(t, 'certs', edit);
    await startPebble();
  }, 240_000);

  afterAll(async () => {
    if (pebblePid) await run('kill', [String(pebblePid)], { timeoutMs: 5000 });
    await labDown();
    if (sitesDir) rmSync(sitesDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(import.meta.dirname, '..', '.figures'), { recursive: true });
    writeFileSync(join(import.meta.dirname, '..', '.figures', 'lab-certificates.json'), `${JSON.stringify(figures, null, 2)}\n`);
    console.log('lab certificates:', JSON.stringify(figures));
  }, 120_000);

  it('the issuer obtains a certificate over DNS-01, with every site answering the challenge', async () => {
    figures.firstValidatedBy = await pebbleVia('nyc');
    const { ms, out } = await renew(false);
    figures.issuanceMs = ms;
    expect(out).toContain(`anycdn-acme-renew: nothing at file:${STORE} yet`);
    const servers = t.sites.flatMap((s) => s.hosts.filter((h) => h.roles.includes('dns')).map((h) => `${h.name}=${h.address}`));
    expect(out).toContain(`anycdn-acme-dns: every dns host answers the challenge: ${servers.join(' ')}`);
    expect(out).toMatch(new RegExp(`anycdn-acme-renew: stored a certificate for ${IMG.replace(/\./g, '\\.')} until .* at file:${STORE}`));
    first = await serialOf(await distribute());
    // The challenge is gone from every Knot again (cleanup), and Knot refused nothing else.
    for (const s of servers) {
      const r = await onHost(ISSUER, `kdig @${s.split('=')[1]} +short TXT _acme-challenge.${IMG}`);
      expect(r.out.trim(), s).toBe('');
    }
  }, 360_000);

  it('Knot takes no other update with the key: another name or type is refused', async () => {
    const dns = t.sites[1]!.hosts.find((h) => h.roles.includes('dns'))!;
    const update = (line: string) => onHost(ISSUER, `printf 'server ${dns.address} 53\\nzone _acme-challenge.${IMG}.\\nupdate ${line}\\nsend\\n' | knsupdate -t 3 -k ${PATHS.acmeTsigKey} 2>&1`);
    expect((await update(`add x._acme-challenge.${IMG}. 60 TXT "x"`)).code).not.toBe(0);
    expect((await update(`add _acme-challenge.${IMG}. 60 A 192.0.2.1`)).code).not.toBe(0);
    // Without the key, from the issuer's own address: refused too.
    const r = await onHost(ISSUER, `printf 'server ${dns.address} 53\\nzone _acme-challenge.${IMG}.\\nupdate add _acme-challenge.${IMG}. 60 TXT "x"\\nsend\\n' | knsupdate -t 3 2>&1`);
    expect(r.code).not.toBe(0);
    expect((await onHost(ISSUER, `kdig @${dns.address} +short TXT _acme-challenge.${IMG}`)).out.trim()).toBe('');
  }, 60_000);

  it('every lb host installs it without a reload, and every site serves it at its VIP on 443', async () => {
    for (const lb of LBS) {
      const r = await onHost(lb, `${PATHS.certFetch} 2>&1`);
      expect(r.out.trim(), lb).toBe(`anycdn-cert-install: installed ${CERT_PATH}; haproxy serves it (set ssl cert, commit ssl cert: no reload)`);
    }
    for (const lb of LBS) expect(await servedBy(lb), lb).toBe(first);
    for (const site of t.sites) expect(await servedAtVip(site.id), site.id).toBe(first);
    const https = await run('ip', ['netns', 'exec', nsOf.client('nyc'), 'curl', '-fsS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '--cacert', join(dir, 'pebble-root.pem'), '--resolve', `${IMG}:443:${t.sites[1]!.vip.address}`, `https://${IMG}${t.cdn.healthcheck.path}`], { timeoutMs: 10_000 });
    expect(https.stdout).toBe('200');
  }, 120_000);

  it('a renewal replaces it under HTTPS load at every site: 0 failed requests, no VIP move', async () => {
    for (const s of t.sites) await kit.vrrpSettled(s.id);
    const holdersBefore = Object.fromEntries(t.sites.map((s) => [s.id, lbHosts(s).find((h) => holdsAddress(h.name, s.vip.address))?.name]));
    const durationSec = 40;
    const loads: Promise<LoadResult>[] = t.sites.map((s) =>
      startLoad(nsOf.client(s.id), {
        target: s.vip.address,
        host: IMG,
        paths: [t.cdn.healthcheck.path],
        ratePerSec: 40,
        durationSec,
        timeoutMs: 5000,
        tls: { caFile: join(dir, 'pebble-root.pem'), servername: IMG },
        freshConnections: true,
      }),
    );
    // Watch the VIPs while the renewal runs: no sample may find one elsewhere.
    let watching = true;
    const moves: string[] = [];
    const watch = (async () => {
      for (let i = 0; watching && i < 2000; i++) {
        for (const s of t.sites) {
          const h = lbHosts(s).find((x) => holdsAddress(x.name, s.vip.address))?.name;
          if (h !== holdersBefore[s.id]) moves.push(`${s.id}: ${h ?? 'nobody'}`);
        }
        await sleep(100);
      }
    })();
    await sleep(5000);
    figures.renewalValidatedBy = await pebbleVia('ams');
    const { ms } = await renew(true);
    figures.renewalMs = ms;
    const second = await serialOf(await distribute());
    expect(second).not.toBe(first);
    const previous = first;
    first = second;
    for (const lb of LBS) expect((await onHost(lb, `${PATHS.certFetch} 2>&1`)).out, lb).toContain('no reload');
    const results = await Promise.all(loads);
    watching = false;
    await watch;
    figures.renewalLoad = Object.fromEntries(t.sites.map((s, i) => [s.id, { sent: results[i]!.sent, failed: results[i]!.failed, certSerials: results[i]!.certSerials, p99Ms: results[i]!.p99Ms }]));
    expect(moves).toEqual([]);
    results.forEach((r, i) => {
      const id = t.sites[i]!.id;
      expect({ site: id, failed: r.failed, errors: r.errors }).toEqual({ site: id, failed: 0, errors: {} });
      expect(r.sent, id).toBe(40 * durationSec);
      // Connections opened before the install got the first certificate, those after it the second.
      expect(Object.keys(r.certSerials).map(norm).sort(), id).toEqual([previous, second].sort());
      expect(Object.values(r.certSerials).reduce((a, b) => a + b, 0), id).toBe(r.ok);
    });
    for (const site of t.sites) expect(await servedAtVip(site.id), site.id).toBe(second);
  }, 600_000);

  it('a failover to the backup lb serves the same certificate', async () => {
    const { master, backup } = await kit.vrrpPair('nyc');
    const vip = t.sites[1]!.vip.address;
    await killUnitTree(master, 'keepalived');
    for (let i = 0; i < 50 && !holdsAddress(backup, vip); i++) await sleep(100);
    expect(holdsAddress(backup, vip)).toBe(true);
    expect(await servedAtVip('nyc')).toBe(first);
    expect(await servedBy(backup)).toBe(first);
    await startUnitAgain(t, master, 'keepalived');
    await kit.vrrpSettled('nyc');
  }, 120_000);

  it('a certificate that expires in 5 days raises CertificateExpiresVerySoon from what node-exporter serves', async () => {
    // An intermediate and a 5-day leaf under the lab CA (which the views trust), on nyc-lb2.
    const ca = labPaths.originDir(0);
    const p = (f: string) => join(dir, f);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await must('openssl', ['req', ...ec, '-subj', '/CN=lab intermediate', '-keyout', p('int.key'), '-out', p('int.csr')], { timeoutMs: 20_000 });
    writeFileSync(p('int.ext'), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n');
    await must('openssl', ['x509', '-req', '-in', p('int.csr'), '-CA', join(ca, 'ca.pem'), '-CAkey', join(ca, 'ca.key'), '-days', '2', '-extfile', p('int.ext'), '-out', p('int.pem')], { timeoutMs: 20_000 });
    await must('openssl', ['req', ...ec, '-subj', `/CN=${IMG}`, '-keyout', p('short.key'), '-out', p('short.csr')], { timeoutMs: 20_000 });
    writeFileSync(p('short.ext'), `subjectAltName=DNS:${IMG}\nextendedKeyUsage=serverAuth\n`);
    await must('openssl', ['x509', '-req', '-in', p('short.csr'), '-CA', p('int.pem'), '-CAkey', p('int.key'), '-days', '5', '-extfile', p('short.ext'), '-out', p('short.crt')], { timeoutMs: 20_000 });
    const pem = ['short.crt', 'int.pem', 'short.key'].map((f) => readFileSync(p(f), 'utf8')).join('');
    const host = 'nyc-lb2';
    const r = await onHost(host, `printf '%s' ${shQuote(pem)} > /run/short.pem && ${PATHS.certInstall} /run/short.pem 2>&1`);
    expect(r.out).toContain('haproxy serves it');
    // Scraped from the Prometheus address (the issuer), as Prometheus scrapes it.
    const address = t.sites[1]!.hosts.find((h) => h.name === host)!.address;
    let sample = '';
    let last = '';
    for (let i = 0; i < 50 && !sample; i++) {
      const s = await onHost(ISSUER, `curl -sS --max-time 2 http://${address}:9100/metrics`);
      last = s.out;
      sample = s.out.split('\n').find((l) => l.startsWith('anycdn_tls_cert_not_after_seconds{')) ?? '';
      if (!sample) await sleep(200);
    }
    const textfile = await onHost(host, `ls -la ${PATHS.nodeExporterTextfiles}; cat ${PATHS.certMetrics}`);
    expect(sample, `scrape: ${last.slice(0, 300)}; on ${host}: ${textfile.out}`).toMatch(/^anycdn_tls_cert_not_after_seconds\{path="\/etc\/haproxy\/certs\/img\.cdn\.example\.net\.pem"\} \d\.\d+e\+09$/);
    const notAfter = Number(sample.split(' ')[1]);
    // Prometheus's rule engine on that sample, as the server would evaluate it now (time 0 = now).
    const left = Math.round(notAfter - Date.now() / 1000);
    const rules = join(dir, 'rules.yml');
    writeFileSync(rules, renderPrometheus(t).find((f) => f.path === PATHS.prometheusRules)!.content);
    const labels = { path: CERT_PATH, site: 'nyc', host, job: 'node', instance: `${address}:9100` };
    const series = `anycdn_tls_cert_not_after_seconds{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
    writeFileSync(
      join(dir, 'alert.test.yml'),
      stringify({
        rule_files: [rules],
        evaluation_interval: '1m',
        tests: [{ interval: '1m', input_series: [{ series, values: `${left}x20` }], alert_rule_test: [{ eval_time: '15m', alertname: 'CertificateExpiresVerySoon', exp_alerts: [{ exp_labels: { severity: 'critical', ...labels }, exp_annotations: { summary: `the certificate ${CERT_PATH} haproxy serves on ${host} (nyc) expires in ${humanizeDuration(left - 15 * 60)}: clients refuse HTTPS when it lapses`, runbook_url: runbookUrl(t, 'CertificateExpiresVerySoon') } }] }, { eval_time: '15m', alertname: 'CertificateExpiresSoon', exp_alerts: [] }] }],
      }),
    );
    const promtool = await run('promtool', ['test', 'rules', join(dir, 'alert.test.yml')], { timeoutMs: 60_000 });
    expect(`${promtool.stdout}${promtool.stderr}`).toContain('SUCCESS');
    figures.expiringDaysLeft = Math.round((left / 86400) * 10) / 10;
  }, 120_000);
});
