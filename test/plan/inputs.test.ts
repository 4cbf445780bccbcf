// What plan reads besides the model: the manifest and the files it lists, a tree given to
// --against, cdk.json. Each is read as any input is (lib/model/read-input.ts): a manifest path that
// leaves --out, a link out of the tree or a FIFO in it is one error naming it, with none of the
// content, and no hang. cdk.json is the project's, found from --sites, not from the working
// directory; bad or missing context is one line at its key there, exit 1, never 70.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SITES_DIR } from '../helpers/topology.ts';
import { runCli } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const SECRET = /SECRETHASH|root:/;

/** A scratch project: the shipped sites, rendered to ./out, and a stand-in for /etc/shadow. */
async function scratch(): Promise<{ d: string; sites: string; out: string }> {
  const d = mkdtempSync(join(tmpdir(), 'anycdn-plan-inputs-'));
  dirs.push(d);
  cpSync(SITES_DIR, join(d, 'sites'), { recursive: true });
  writeFileSync(join(d, 'shadow'), 'root:$y$j9T$SECRETHASH:19700:0:99999:7:::\n');
  const p = { d, sites: join(d, 'sites'), out: join(d, 'out') };
  expect((await run(['render', '--sites', p.sites, '--out', p.out])).code).toBe(0);
  return p;
}

const run = runCli;

/** The real CLI in `cwd`, killed after 120 s; a stale-dist notice from bin/launch.js is dropped. */
function cli(cwd: string, args: string[]): Promise<{ code: number | string; stdout: string; stderr: string[] }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'anycdn.js'), ...args], { cwd, timeout: 120_000, killSignal: 'SIGKILL' }, (e, stdout, stderr) => {
      const code = e ? (e.killed ? 'killed after 120 s' : (e.code as number)) : 0;
      resolve({ code, stdout, stderr: stderr.split('\n').filter((l) => l && !l.startsWith('anycdn: dist/')) });
    });
  });
}

function editManifest(out: string, edit: (m: { files: { path: string }[] ; model: { files: Record<string, string> } }) => void): void {
  const path = join(out, '.anycdn', 'manifest.json');
  const m = JSON.parse(readFileSync(path, 'utf8'));
  edit(m);
  writeFileSync(path, JSON.stringify(m, null, 2));
}

const CFG = 'ams/ams-lb1/etc/haproxy/haproxy.cfg';

describe('plan reads only inside the trees it is given', () => {
  it.each([
    ['../../../../etc/shadow', 'must be <site>/<host>/<path on the host>'],
    ['../shadow', 'must be <site>/<host>/<path on the host>'],
    ['ams/ams-lb1/../../../shadow', 'must have no empty, . or .. segment'],
    ['ams/ams-lb1//etc/shadow', 'must have no empty, . or .. segment'],
  ])('a hand-edited manifest entry %s is refused before anything is read through it', async (entry, why) => {
    const p = await scratch();
    editManifest(p.out, (m) => (m.files[0]!.path = entry));
    const r = await run(['plan', '--sites', p.sites, '--out', p.out, '--no-cloud']);
    expect(r).toEqual({
      code: 1,
      out: [],
      err: [`${p.out}/.anycdn/manifest.json:1:1: files.0.path: ${why}, got ${JSON.stringify(entry)}; render into a new --out, or remove ${p.out} (once you have checked that nothing in it is yours) and render again`, '1 error'],
    });
  });

  it('a listed file that is a symlink out of --out: one error naming it, none of the content', async () => {
    const p = await scratch();
    unlinkSync(join(p.out, CFG));
    symlinkSync(join(p.d, 'shadow'), join(p.out, CFG));
    const r = await run(['plan', '--sites', p.sites, '--out', p.out, '--no-cloud']);
    expect(r).toEqual({ code: 1, out: [], err: [`${p.out}/${CFG}:1:1: is a symlink to ${p.d}/shadow, outside ${p.out}; render never writes one: remove it and render again`, '1 error'] });
  });

  it('a directory of a listed file that is a symlink out of --out: the same', async () => {
    const p = await scratch();
    mkdirSync(join(p.d, 'elsewhere', 'haproxy'), { recursive: true });
    cpSync(join(p.d, 'shadow'), join(p.d, 'elsewhere', 'haproxy', 'haproxy.cfg'));
    rmSync(join(p.out, 'ams', 'ams-lb1', 'etc', 'haproxy'), { recursive: true });
    symlinkSync(join(p.d, 'elsewhere', 'haproxy'), join(p.out, 'ams', 'ams-lb1', 'etc', 'haproxy'));
    const r = await run(['plan', '--sites', p.sites, '--out', p.out, '--no-cloud']);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`${p.out}/${CFG}:1:1: resolves to ${p.d}/elsewhere/haproxy/haproxy.cfg through a symlinked directory, outside ${p.out}; render never writes one: remove it and render again`, '1 error']);
  });

  it('a listed file that is a FIFO: one error, no hang', { timeout: 300_000 }, async () => {
    const p = await scratch();
    unlinkSync(join(p.out, CFG));
    execFileSync('mkfifo', [join(p.out, CFG)]);
    const r = await cli(p.d, ['plan', '--sites', 'sites', '--out', 'out', '--no-cloud']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: [`out/${CFG}:1:1: is a FIFO, not a regular file; render never writes one: remove it and render again`, '1 error'] });
  });

  it('--against DIR: a link out of the tree and a FIFO in it, both named at once, no content, no hang', { timeout: 300_000 }, async () => {
    const p = await scratch();
    rmSync(join(p.out, '.anycdn'), { recursive: true });
    unlinkSync(join(p.out, CFG));
    symlinkSync(join(p.d, 'shadow'), join(p.out, CFG));
    execFileSync('mkfifo', [join(p.out, 'nyc', 'nyc-lb1', 'etc', 'fifo')]);
    const r = await cli(p.d, ['plan', '--sites', 'sites', '--against', 'out', '--no-cloud']);
    const fix = 'remove it from the tree, or pass another --against';
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: [`out/${CFG}:1:1: is a symlink to ${p.d}/shadow, outside out; render never writes one: ${fix}`, `out/nyc/nyc-lb1/etc/fifo:1:1: is a FIFO, not a regular file; render never writes one: ${fix}`, '2 errors'],
    });
    expect(r.stderr.join('\n')).not.toMatch(SECRET);
  });
});

describe('the limits are enforced by reading', () => {
  // Sparse files of zeros one byte over each limit: read to the limit, refused, nothing kept.
  it('a manifest over 64 MiB, a listed file over 16 MiB', async () => {
    const p = await scratch();
    truncateSync(join(p.out, CFG), 16 * 1024 * 1024 + 1);
    const r = await run(['plan', '--sites', p.sites, '--out', p.out, '--no-cloud']);
    expect(r).toEqual({ code: 1, out: [], err: [`${p.out}/${CFG}:1:1: is larger than 16777216 bytes, the limit; render writes only UTF-8 text files under the limit: remove it and render again`, '1 error'] });
    truncateSync(join(p.out, '.anycdn', 'manifest.json'), 64 * 1024 * 1024 + 1);
    const m = await run(['plan', '--sites', p.sites, '--out', p.out, '--no-cloud']);
    expect(m.err).toEqual([`${p.out}/.anycdn/manifest.json:1:1: is larger than 67108864 bytes, the limit; render into a new --out, or remove ${p.out} (once you have checked that nothing in it is yours) and render again`, '1 error']);
  });
});

describe('the recorded model', () => {
  it('an error in it names the manifest and the real fix, render again, not a file inside the manifest', { timeout: 300_000 }, async () => {
    const p = await scratch();
    // Recorded by an earlier version that did not yet need pinned zones: it loads, and fails the cloud check.
    editManifest(p.out, (m) => (m.model.files['sin.yaml'] = m.model.files['sin.yaml']!.replace(/\navailabilityZones: .*/, '')));
    const r = await run(['plan', '--sites', p.sites, '--out', p.out]);
    expect(r).toEqual({
      code: 1,
      out: [],
      err: [
        `${p.out}/.anycdn/manifest.json:1:1: the model recorded by the last render fails a cloud check: sites/sin.yaml:8:9: region: aws site sin has no availability zones pinned for ap-southeast-1; render again to record the current model, or pass --against <git-ref|dir>`,
        '1 error',
      ],
    });
  });

  it('one that no longer loads: the same', async () => {
    const p = await scratch();
    editManifest(p.out, (m) => (m.model.files['ams.yaml'] = m.model.files['ams.yaml']!.replace('asn: 64501', 'asn: 0')));
    const r = await run(['plan', '--sites', p.sites, '--out', p.out, '--no-cloud']);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(2);
    expect(r.err[0]).toMatch(new RegExp(`^${p.out}/\\.anycdn/manifest\\.json:1:1: the model recorded by the last render no longer loads: sites/ams\\.yaml:\\d+:\\d+: bgp\\.peers\\[0\\]\\.asn: [^;]*; render again to record the current model, or pass --against <git-ref\\|dir>$`));
  });
});

describe("plan's cdk.json: the project's, whatever the working directory", () => {
  /** sin moved to eu-west-1, which the package's cdk.json has no AMI for; the project's cdk.json with `ami`. */
  async function euProject(ami: Record<string, string> | undefined): Promise<{ d: string; sites: string; out: string }> {
    const p = await scratch();
    const sin = join(p.sites, 'sin.yaml');
    writeFileSync(sin, readFileSync(sin, 'utf8').replaceAll('ap-southeast-1', 'eu-west-1'));
    const cdk = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8'));
    if (ami) cdk.context['anycdn:debian-ami'] = ami;
    else delete cdk.context['anycdn:debian-ami'];
    writeFileSync(join(p.d, 'cdk.json'), JSON.stringify(cdk, null, 2));
    expect((await run(['render', '--sites', p.sites, '--out', p.out])).code).toBe(0);
    return p;
  }

  const lookup = '`aws ssm get-parameter --region eu-west-1 --name /aws/service/debian/release/12/latest/amd64 --query Parameter.Value`';

  it('finds cdk.json above --sites: the project AMI for eu-west-1 is used', { timeout: 300_000 }, async () => {
    const p = await euProject({ 'eu-west-1': 'ami-0123456789abcdef0' });
    const r = await run(['plan', '--sites', p.sites, '--out', p.out]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('No changes. The rendered hosts and the cloud stacks match the baseline.');
  });

  it('an aws site in a region cdk.json does not list: one line at the key, the fix for plan, exit 1', { timeout: 300_000 }, async () => {
    const p = await euProject({ 'ap-southeast-1': 'ami-0123456789abcdef0' });
    const r = await run(['plan', '--sites', p.sites, '--out', p.out]);
    const line = readFileSync(join(p.d, 'cdk.json'), 'utf8').split('\n').findIndex((l) => l.includes('"anycdn:debian-ami"')) + 1;
    expect(r).toEqual({
      code: 1,
      out: [],
      err: [
        `${p.d}/cdk.json:${line}:5: context anycdn:debian-ami (aws site sin): no AMI for eu-west-1; add "eu-west-1": "ami-..." with the id from ${lookup}; plan reads context only from the "context" of ${p.d}/cdk.json: set it there, or pass --no-cloud to skip the cloud stacks`,
        '1 error',
      ],
    });
  });

  it('no AMI context at all: one line at "context"', { timeout: 300_000 }, async () => {
    const p = await euProject(undefined);
    const r = await run(['plan', '--sites', p.sites, '--out', p.out]);
    const line = readFileSync(join(p.d, 'cdk.json'), 'utf8').split('\n').findIndex((l) => l.includes('"context"')) + 1;
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      `${p.d}/cdk.json:${line}:3: context anycdn:debian-ami (aws site sin): missing; pin the Debian 12 AMI per region, e.g. {"eu-west-1": "ami-..."} with the id from ${lookup}; plan reads context only from the "context" of ${p.d}/cdk.json: set it there, or pass --no-cloud to skip the cloud stacks`,
      '1 error',
    ]);
  });

  it('a cdk.json that is not JSON: its line and column where V8 gives the offset, none of its text', async () => {
    const p = await scratch();
    writeFileSync(join(p.d, 'cdk.json'), '{\n  "context": {\n    "x": "SECRETHASH",\n  }\n}\n');
    expect(await run(['plan', '--sites', p.sites, '--out', p.out])).toEqual({ code: 1, out: [], err: [`${p.d}/cdk.json:4:3: is not valid JSON; fix it, or pass --no-cloud`, '1 error'] });
    // V8's message for this one quotes the text and gives no offset.
    writeFileSync(join(p.d, 'cdk.json'), '{\n  "context": {\n    "x": SECRETHASH\n  }\n}\n');
    expect(await run(['plan', '--sites', p.sites, '--out', p.out])).toEqual({ code: 1, out: [], err: [`${p.d}/cdk.json:1:1: is not valid JSON; fix it, or pass --no-cloud`, '1 error'] });
  });

  it('run from a directory with no cdk.json, for a project with none: the package cdk.json, exit 0', { timeout: 300_000 }, async () => {
    const p = await scratch();
    mkdirSync(join(p.d, 'elsewhere'));
    const r = await cli(join(p.d, 'elsewhere'), ['plan', '--sites', p.sites, '--out', p.out]);
    expect(r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No changes. The rendered hosts and the cloud stacks match the baseline.');
  });
});
