// anycdn-cert-check and anycdn-cert-install as rendered for ams-lb1, run for real: the check
// refuses every kind of bad PEM with its reason, and the install hands a new certificate to a
// running haproxy 2.6 through its runtime API, atomically and without a reload (same master, same
// worker), writes its notAfter for node-exporter, changes nothing for the same PEM again, and
// leaves the served certificate alone when the new one is bad. Inside a throwaway mount and
// network namespace: the scripts, /etc/haproxy, the CA bundle and /run are the test's own.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTopology } from '../../lib/model/load.ts';
import { renderPlans } from '../../lib/render/index.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { shQuote } from '../../lib/render/syntax/shell.ts';
import { must, run } from '../../lib/run.ts';
import { missingBinary, missingRoot } from '../helpers/daemons.ts';
import { SITES_DIR } from '../helpers/topology.ts';

const NAME = 'img.cdn.example.net';
const dir = mkdtempSync(join(tmpdir(), 'anycdn-certs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const t = loadTopology(SITES_DIR);
const plan = renderPlans(t).find((p) => p.host === 'ams-lb1')!;
const certPath = t.sites.find((s) => s.id === 'ams')!.haproxy.https!.certPath;
const fileOf = (path: string) => plan.files.find((f) => f.path === path)!.content;

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const ssl = (args: string[]) => must('openssl', args, { timeoutMs: 20_000 });
const p = (f: string) => join(dir, 'pki', f);

/** A leaf for `cn`/`san` signed by the intermediate (or `ca`), valid `days`; returns its PEM path (leaf + chain + key). */
async function leaf(name: string, opts: { san?: string; days?: number; ca?: 'int' | 'root'; chain?: boolean; keyOf?: string } = {}): Promise<string> {
  const ca = opts.ca ?? 'int';
  await ssl(['req', ...ec, '-subj', `/CN=${name}`, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`)]);
  writeFileSync(p(`${name}.ext`), `subjectAltName=DNS:${opts.san ?? NAME}\nextendedKeyUsage=serverAuth\n`);
  await ssl(['x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${ca}.pem`), '-CAkey', p(`${ca}.key`), '-days', String(opts.days ?? 30), '-extfile', p(`${name}.ext`), '-out', p(`${name}.crt`)]);
  const chain = opts.chain === false ? '' : readFileSync(p('int.pem'), 'utf8');
  const pem = p(`${name}.pem`);
  writeFileSync(pem, `${readFileSync(p(`${name}.crt`), 'utf8')}${chain}${readFileSync(p(`${opts.keyOf ?? name}.key`), 'utf8')}`);
  return pem;
}

/** Runs `script` in a fresh mount + network namespace laid out as an lb host. */
async function inHost(script: string): Promise<{ code: number; out: string }> {
  const q = shQuote;
  const lines = [
    'set -eu',
    'mount -t tmpfs anycdn /run',
    `mount --bind ${q(join(dir, 'sbin'))} /usr/local/sbin`,
    `mount --bind ${q(join(dir, 'etc-haproxy'))} /etc/haproxy`,
    `mount --bind ${q(p('root.pem'))} /etc/ssl/certs/ca-certificates.crt`,
    'mount -t tmpfs anycdn /var/lib/prometheus',
    `mkdir -p /run/haproxy ${q(PATHS.nodeExporterTextfiles)}`,
    'ip link set lo up',
    script,
  ];
  const r = await run('unshare', ['--mount', '--net', '--propagation', 'private', 'sh', '-c', lines.join('\n')], { timeoutMs: 120_000 });
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

describe('certificates on an lb host (anycdn-cert-check, anycdn-cert-install)', () => {
  const skip = missingRoot() ?? missingBinary('/usr/sbin/haproxy', 'haproxy') ?? missingBinary('/usr/bin/socat', 'socat') ?? missingBinary('/usr/bin/openssl', 'openssl');
  const pems: Record<string, string> = {};

  beforeAll(async () => {
    if (skip) return;
    mkdirSync(join(dir, 'pki'), { recursive: true });
    mkdirSync(join(dir, 'sbin'), { recursive: true });
    mkdirSync(join(dir, 'etc-haproxy', 'certs'), { recursive: true });
    for (const path of [PATHS.certCheck, PATHS.certInstall]) {
      const f = join(dir, 'sbin', path.replace(/^.*\//, ''));
      writeFileSync(f, fileOf(path));
      chmodSync(f, 0o755);
    }
    await ssl(['req', '-x509', ...ec, '-subj', '/CN=anycdn test root', '-days', '2', '-keyout', p('root.key'), '-out', p('root.pem')]);
    await ssl(['req', ...ec, '-subj', '/CN=anycdn test intermediate', '-keyout', p('int.key'), '-out', p('int.csr')]);
    writeFileSync(p('int.ext'), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n');
    await ssl(['x509', '-req', '-in', p('int.csr'), '-CA', p('root.pem'), '-CAkey', p('root.key'), '-days', '2', '-extfile', p('int.ext'), '-out', p('int.pem')]);
    pems.a = await leaf('a');
    pems.b = await leaf('b');
    pems.otherName = await leaf('other', { san: 'www.example.org' });
    pems.expired = await leaf('expired', { days: 0 });
    pems.noChain = await leaf('nochain', { chain: false });
    pems.wrongKey = await leaf('wrongkey', { keyOf: 'a' });
    pems.selfSigned = p('self.pem');
    await ssl(['req', '-x509', ...ec, '-subj', `/CN=${NAME}`, '-addext', `subjectAltName=DNS:${NAME}`, '-days', '2', '-keyout', p('self.key'), '-out', p('self.crt')]);
    writeFileSync(pems.selfSigned, `${readFileSync(p('self.crt'), 'utf8')}${readFileSync(p('int.pem'), 'utf8')}${readFileSync(p('self.key'), 'utf8')}`);
    pems.twoKeys = p('twokeys.pem');
    writeFileSync(pems.twoKeys, `${readFileSync(pems.a, 'utf8')}${readFileSync(p('b.key'), 'utf8')}`);
    writeFileSync(
      join(dir, 'etc-haproxy', 'haproxy.cfg'),
      [
        'global',
        `\tstats socket ${PATHS.haproxySocket} mode 600 level admin`,
        'defaults',
        '\tmode http',
        '\ttimeout connect 1s',
        '\ttimeout client 5s',
        '\ttimeout server 5s',
        'frontend images',
        `\tbind 127.0.0.1:443 ssl crt ${certPath}`,
        '\thttp-request return status 200 content-type text/plain string ok',
        '',
      ].join('\n'),
    );
  }, 120_000);

  it.skipIf(skip)('anycdn-cert-check passes a good PEM and refuses each bad one with its reason', async () => {
    const check = (pem: string) => `/usr/local/sbin/anycdn-cert-check ${shQuote(pem)} 2>&1 && echo "ok ${pem}" || echo "rc=$? ${pem}"`;
    const r = await inHost(Object.values(pems).map(check).join('\n'));
    const line = (pem: string) => r.out.split('\n').filter((l) => l.includes(pem.replace(/^.*\//, '')));
    expect(line(pems.a!)).toEqual([`ok ${pems.a}`]);
    expect(line(pems.otherName!)[0]).toMatch(/: does not verify for img\.cdn\.example\.net against \/etc\/ssl\/certs\/ca-certificates\.crt: error 62 at 0 depth lookup: hostname mismatch$/);
    expect(line(pems.expired!)[0]).toMatch(/: has expired, or expires within 3600 s$/);
    expect(line(pems.noChain!)[0]).toMatch(/: holds no intermediate certificate after the leaf; serve the whole chain$/);
    expect(line(pems.wrongKey!)[0]).toMatch(/: the private key is not the certificate's$/);
    expect(line(pems.selfSigned!)[0]).toMatch(/: does not verify for img\.cdn\.example\.net against .*: error (18|20) at 0 depth lookup/);
    expect(line(pems.twoKeys!)[0]).toMatch(/: must hold one certificate, its chain and exactly one private key$/);
    for (const bad of ['otherName', 'expired', 'noChain', 'wrongKey', 'selfSigned', 'twoKeys']) expect(line(pems[bad]!).at(-1)).toBe(`rc=1 ${pems[bad]}`);
  });

  it.skipIf(skip)('anycdn-cert-install hands a new certificate to the running haproxy without a reload, atomically, and exports notAfter', async () => {
    const q = shQuote;
    const serial = `echo | openssl s_client -connect 127.0.0.1:443 -servername ${NAME} 2>/dev/null | openssl x509 -noout -serial`;
    const script = [
      `cp ${q(pems.a!)} ${q(certPath)}`,
      'haproxy -W -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid >/run/haproxy.log 2>&1 &',
      'master=$!',
      'i=0; until [ -S /run/haproxy/admin.sock ] && ' + serial + ' >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 100 ] || { cat /run/haproxy.log; exit 9; }; sleep 0.1; done',
      'worker=$(ps -o pid= --ppid "$master" | tr -d " ")',
      `echo "before $(${serial})"`,
      `/usr/local/sbin/anycdn-cert-install ${q(pems.b!)}`,
      `echo "after $(${serial})"`,
      'echo "pids $(kill -0 "$master" && echo same-master) $([ "$(ps -o pid= --ppid "$master" | tr -d " ")" = "$worker" ] && echo same-worker)"',
      `cmp -s ${q(pems.b!)} ${q(certPath)} && echo "on disk b"`,
      `ls -a ${q(certPath.replace(/\/[^/]*$/, ''))} | grep -c new || true`,
      `cat ${q(PATHS.certMetrics)}`,
      `/usr/local/sbin/anycdn-cert-install ${q(pems.b!)}`,
      `/usr/local/sbin/anycdn-cert-install ${q(pems.otherName!)} 2>&1 || echo "refused rc=$?"`,
      `echo "still $(${serial})"`,
      `cmp -s ${q(pems.b!)} ${q(certPath)} && echo "on disk still b"`,
      'kill "$master"; wait "$master" || true',
    ].join('\n');
    const r = await inHost(script);
    const serialOf = async (pem: string) => (await must('openssl', ['x509', '-in', pem, '-noout', '-serial'], { timeoutMs: 10_000 })).trim();
    const [a, b] = [await serialOf(pems.a!), await serialOf(pems.b!)];
    const end = (await must('openssl', ['x509', '-in', pems.b!, '-noout', '-enddate'], { timeoutMs: 10_000 })).trim().replace(/^notAfter=/, '');
    const epoch = Math.round(Date.parse(end) / 1000);
    expect(r.out.split('\n').filter(Boolean)).toEqual([
      `before ${a}`,
      `anycdn-cert-install: installed ${certPath}; haproxy serves it (set ssl cert, commit ssl cert: no reload)`,
      `after ${b}`,
      'pids same-master same-worker',
      'on disk b',
      '0',
      '# HELP anycdn_tls_cert_not_after_seconds When the certificate haproxy serves expires (Unix time).',
      '# TYPE anycdn_tls_cert_not_after_seconds gauge',
      `anycdn_tls_cert_not_after_seconds{path="${certPath}"} ${epoch}`,
      `anycdn-cert-install: ${certPath} is already this certificate`,
      `anycdn-cert-check: ${pems.otherName}: does not verify for img.cdn.example.net against /etc/ssl/certs/ca-certificates.crt: error 62 at 0 depth lookup: hostname mismatch`,
      `anycdn-cert-install: refused ${pems.otherName}; ${certPath} is unchanged`,
      'refused rc=1',
      `still ${b}`,
      'on disk still b',
    ]);
  });
});
