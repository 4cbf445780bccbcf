// The lab's origin (lib/lab/origin.ts) on its own, without a lab: its nginx, from the config
// prepareOrigin writes, in a throwaway network namespace that holds the lab origin's addresses,
// must serve at exactly the model's port and scheme (originTarget) and nowhere else. Issue 18: it
// listened on 80 and 443 whatever the model said.
//
// ANYCDN_LAB_DIR points at a temp directory before lib/lab is loaded, and the test refuses to run
// if it does not, so a lab running on this machine (in /run/anycdn-lab) is never touched.
// Everything runs under `unshare --net --pid --kill-child`: the namespace and its nginx go when the
// script ends or is killed.
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../lib/run.ts';
import { shQuote as q } from '../../lib/render/syntax/shell.ts';
import { missingBinary, missingRoot } from '../helpers/daemons.ts';
import { loadEdited } from '../helpers/topology.ts';

const skip = missingBinary('/usr/sbin/nginx', 'nginx') ?? missingBinary('/usr/bin/curl', 'curl') ?? missingBinary('/usr/bin/openssl', 'openssl') ?? missingRoot();

const httpOrigin = loadEdited((x) => {
  x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/origin:\n  s3:\n    bucket: .*\n    region: .*\n/, 'origin:\n  http:\n    url: http://origin.cdn.example.net:8080\n');
});
const s3Origin = loadEdited();

interface Served {
  /** curl's status per probe name, '000' when nothing answered. */
  codes: Record<string, string>;
  /** sha256 of the body of the probe `ok`. */
  okSha: string;
}

// Set before lib/lab is first loaded (only dynamically, below): LAB_DIR is read at import. The
// origin's nginx workers run as nobody, so the tree must be world-readable, as /run/anycdn-lab is.
const work = mkdtempSync(join(tmpdir(), 'anycdn-e2e-lab-origin-'));
chmodSync(work, 0o755);
const LAB = join(work, 'lab');
process.env.ANYCDN_LAB_DIR = LAB;

/** Writes the origin for `t` into a lab dir of its own, runs its nginx in a namespace, probes it. */
async function serve(t: typeof httpOrigin, name: string): Promise<Served & { imageSha: string; imagePath: string }> {
  const { labPaths } = await import('../../lib/lab/state.ts');
  if (!labPaths.origin.startsWith(`${LAB}/`)) throw new Error(`refusing to write the lab origin to ${labPaths.origin}: not under ${LAB}`);
  const { prepareOrigin } = await import('../../lib/lab/origin.ts');
  const { originTarget } = await import('../../lib/model/facts.ts');
  const { ORIGIN } = await import('../../lib/lab/plan.ts');
  const origin = originTarget(t);
  const { images } = await prepareOrigin(origin);
  const imagePath = images[3]!;
  const root = labPaths.origin;
  const out = join(work, `${name}-out`);
  const curl = (probe: string, url: string, extra = '') =>
    `curl -s --max-time 2 ${extra} -o ${q(`${out}.${probe}.body`)} -w '%{http_code}' ${q(url)} > ${q(`${out}.${probe}.code`)}`;
  const https = origin.tls ? `--cacert ${q(join(root, 'ca.pem'))} --resolve ${q(`${origin.host}:${origin.port}:${ORIGIN.v4}`)}` : '';
  const lines = [
    'set -u',
    'ip link set lo up',
    `ip addr add ${ORIGIN.v4}/24 dev lo`,
    `ip addr add ${ORIGIN.v6}/64 dev lo nodad`,
    // A previous test's nginx (SIGKILLed with its namespace) may have left its pid file behind;
    // nginx writes a new one once its sockets listen.
    `rm -f ${q(join(root, 'nginx.pid'))}`,
    `nginx -p ${q(root)} -c ${q(join(root, 'nginx.conf'))} > ${q(`${out}.nginx.log`)} 2>&1 & NGINX=$!`,
    'trap \'kill "$NGINX" 2>/dev/null\' EXIT',
    // Bounded: 100 x 0.1 s for nginx to listen.
    `i=0; while [ $i -lt 100 ] && ! [ -s ${q(join(root, 'nginx.pid'))} ]; do i=$((i+1)); sleep 0.1; done`,
    curl('ok', `${origin.tls ? 'https' : 'http'}://${origin.tls ? origin.host : ORIGIN.v4}:${origin.port}${imagePath}`, https),
    curl('ok6', `${origin.tls ? 'https' : 'http'}://${origin.tls ? origin.host : `[${ORIGIN.v6}]`}:${origin.port}${imagePath}`, origin.tls ? `${https.replace(ORIGIN.v4, `[${ORIGIN.v6}]`)}` : ''),
    ...[80, 443, 8080].filter((p) => p !== origin.port).map((p) => curl(`port${p}`, `http://${ORIGIN.v4}:${p}${imagePath}`)),
    'exit 0',
  ];
  await writeFile(`${out}.sh`, `${lines.join('\n')}\n`);
  const r = await run('/usr/bin/unshare', ['--net', '--pid', '--fork', '--kill-child', '/bin/sh', `${out}.sh`], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`origin script failed: ${r.stderr}${r.stdout}`);
  const codes: Record<string, string> = {};
  for (const probe of ['ok', 'ok6', 'port80', 'port443', 'port8080']) codes[probe] = await readFile(`${out}.${probe}.code`, 'utf8').catch(() => '');
  const okSha = createHash('sha256').update(await readFile(`${out}.ok.body`).catch(() => Buffer.alloc(0))).digest('hex');
  const imageSha = createHash('sha256').update(await readFile(join(root, 'www', imagePath))).digest('hex');
  return { codes, okSha, imageSha, imagePath };
}

describe.skipIf(skip)('the lab origin serves at exactly the model\'s port and scheme', () => {
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('http://origin.cdn.example.net:8080: plain HTTP on 8080 (v4 and v6), nothing on 80 or 443', async () => {
    const s = await serve(httpOrigin, 'http8080');
    expect(s.codes).toEqual({ ok: '200', ok6: '200', port80: '000', port443: '000', port8080: '' });
    expect(s.okSha).toBe(s.imageSha);
  }, 90_000);

  it('an S3 origin: HTTPS on 443 with a certificate for the bucket name, nothing on 80 or 8080', async () => {
    const s = await serve(s3Origin, 's3');
    expect(s.codes).toEqual({ ok: '200', ok6: '200', port80: '000', port443: '', port8080: '000' });
    expect(s.okSha).toBe(s.imageSha);
  }, 90_000);
});
