// `anycdn plan` end to end through main(): the baselines (the manifest in --out, --against a
// directory, --against a git ref), the exit codes, --json against schema/plan.schema.json, and the
// errors.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { IMPACT_CLASSES } from '../../lib/plan/impact.ts';
import { SITES_DIR } from '../helpers/topology.ts';
import { runCli } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SCHEMA = JSON.parse(readFileSync(join(ROOT, 'schema', 'plan.schema.json'), 'utf8')) as { $defs: { impactClass: { enum: string[] } } };
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'anycdn-plan-test-'));
  dirs.push(d);
  cpSync(SITES_DIR, join(d, 'sites'), { recursive: true });
  return d;
}

const run = runCli;

function editFile(path: string, from: string, to: string): void {
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`fixture: ${from} not in ${path}`);
  writeFileSync(path, text.replace(from, to));
}

const ttl = (d: string) => editFile(join(d, 'sites', 'cdn.yaml'), 'ttlSec: 60', 'ttlSec: 120');

describe('anycdn plan against the last render (out/.anycdn/manifest.json)', () => {
  it('an unchanged model: "No changes", exit 0, with --exit-code too', { timeout: 120_000 }, async () => {
    const d = scratch();
    expect((await run(['render', '--sites', join(d, 'sites'), '--out', join(d, 'out')])).code).toBe(0);
    const r = await run(['plan', '--sites', join(d, 'sites'), '--out', join(d, 'out'), '--exit-code', '--no-cloud']);
    expect(r).toEqual({
      code: 0,
      out: [`anycdn plan: against ${join(d, 'out')} (manifest)`, '', 'No changes. The rendered hosts match the baseline.', 'Cloud stacks not compared: skipped with --no-cloud.'],
      err: [],
    });
  });

  it('`anycdn diff` (the design card\'s name) is plan: the same output and exit code', { timeout: 120_000 }, async () => {
    const d = scratch();
    await run(['render', '--sites', join(d, 'sites'), '--out', join(d, 'out')]);
    ttl(d);
    const args = ['--sites', join(d, 'sites'), '--out', join(d, 'out'), '--exit-code', '--no-cloud'];
    const plan = await run(['plan', ...args]);
    expect(plan.code).toBe(2);
    expect(plan.out.join('\n')).toContain('ttlSec');
    expect(await run(['diff', ...args])).toEqual(plan);
    expect((await run(['diff', '--no-such-flag'])).code).toBe(1);
  });

  it('a change: exit 0 without --exit-code, 2 with it; --json matches schema/plan.schema.json, cloud stacks included', { timeout: 300_000 }, async () => {
    const d = scratch();
    await run(['render', '--sites', join(d, 'sites'), '--out', join(d, 'out')]);
    editFile(join(d, 'sites', 'sin.yaml'), 'advertIntervalMs: 100', 'advertIntervalMs: 200');
    const args = ['plan', '--sites', join(d, 'sites'), '--out', join(d, 'out')];
    expect((await run([...args, '--no-cloud'])).code).toBe(0);
    const r = await run([...args, '--json', '--exit-code']);
    expect(r.code).toBe(2);
    const plan = JSON.parse(r.out.join('\n'));
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(SCHEMA);
    const valid = validate(plan);
    expect(valid ? [] : validate.errors).toEqual([]);
    expect(plan.baseline).toEqual({ kind: 'out', source: `${join(d, 'out')} (manifest)`, commit: null });
    expect(plan.cloud.map((c: { stack: string; impact: string }) => `${c.stack} ${c.impact}`)).toEqual(['anycdn-sin cloud-interruption']);
    expect(plan.steps.map((s: { title: string }) => s.title)).toEqual(['deploy anycdn-sin: its hosts restart one at a time, each waiting for the previous one to be healthy']);
    // The schema rejects what the plan must never hold: a class it does not know.
    expect(validate({ ...plan, steps: [{ ...plan.steps[0], impact: 'reboot' }] })).toBe(false);
  });

  it('a file edited in out/ after render is a warning, and the diff is against the file on disk', async () => {
    const d = scratch();
    await run(['render', '--sites', join(d, 'sites'), '--out', join(d, 'out')]);
    editFile(join(d, 'out', 'ams', 'ams-lb1', 'etc', 'haproxy', 'haproxy.cfg'), 'maxconn 8000', 'maxconn 9000');
    const r = await run(['plan', '--sites', join(d, 'sites'), '--out', join(d, 'out'), '--no-cloud', '--exit-code']);
    expect(r.code).toBe(2);
    expect(r.out[1]).toBe(`warning: ${join(d, 'out', 'ams/ams-lb1/etc/haproxy/haproxy.cfg')} differs from the manifest: edited after \`anycdn render\`; the diff is against the file on disk`);
    expect(r.out).toContain('      haproxy-reload  - maxconn 9000 (in global)');
  });

  it('no manifest: exit 1 and the fix', async () => {
    const d = scratch();
    const r = await run(['plan', '--sites', join(d, 'sites'), '--out', join(d, 'out')]);
    expect(r).toEqual({ code: 1, out: [], err: [`${join(d, 'out', '.anycdn/manifest.json')}:1:1: no record of a render in ${join(d, 'out')}; run \`anycdn render\` first, or pass --against <git-ref|dir>`, '1 error'] });
  });

  it('render refuses to count serials on from a manifest it cannot read, and names the fix', async () => {
    const d = scratch();
    await run(['render', '--sites', join(d, 'sites'), '--out', join(d, 'out')]);
    writeFileSync(join(d, 'out', '.anycdn', 'manifest.json'), '{"version": 2}');
    const r = await run(['render', '--sites', join(d, 'sites'), '--out', join(d, 'out')]);
    expect(r).toEqual({ code: 1, out: [], err: [`${join(d, 'out', '.anycdn/manifest.json')}:1:1: version: Invalid input: expected 1; render into a new --out, or remove ${join(d, 'out')} (once you have checked that nothing in it is yours) and render again`, '1 error'] });
  });

  it('bad usage exits 1, never 2 (2 means changes)', async () => {
    expect((await run(['plan', '--frobnicate'])).code).toBe(1);
  });
});

describe('anycdn plan --against', () => {
  it('<dir>: a tree laid out like render output; without a manifest, the cloud stacks are not compared', async () => {
    const d = scratch();
    await run(['render', '--sites', join(d, 'sites'), '--out', join(d, 'pulled')]);
    rmSync(join(d, 'pulled', '.anycdn'), { recursive: true });
    ttl(d);
    const r = await run(['plan', '--sites', join(d, 'sites'), '--against', join(d, 'pulled'), '--exit-code']);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`  not compared: ${join(d, 'pulled')} records no model (.anycdn/manifest.json) to rebuild its templates from`);
    // The zone's records changed, so its serial rises from the one in the pulled file. The TTL is
    // also the one the checker's drain answer carries, which its reload takes: no restart.
    expect(r.out).toContain('      knot-zone-reload  SOA serial 1 -> 2');
    expect(r.out).toContain('      healthcheck-reload  drain.knot.ttlSec: 60 -> 120');
    expect(r.out.filter((l) => /^ {2}host /.test(l))).toEqual([
      '  host ams-lb1 changed [healthcheck-reload]',
      '  host ams-lb2 changed [healthcheck-reload]',
      '  host nyc-lb1 changed [healthcheck-reload]',
      '  host nyc-lb2 changed [healthcheck-reload]',
      '  host sin-lb1 changed [cloud-interruption]',
      '  host sin-lb2 changed [cloud-interruption]',
    ]);
  });

  it('<git-ref>: the model at that ref, rendered in a temporary worktree that is removed afterwards', { timeout: 120_000 }, async () => {
    const d = scratch();
    const git = (...a: string[]) => execFileSync('git', ['-C', d, '-c', 'user.name=t', '-c', 'user.email=t@example.net', ...a], { encoding: 'utf8' });
    git('init', '-q');
    git('add', 'sites');
    git('commit', '-qm', 'model');
    const commit = git('rev-parse', 'HEAD').trim();
    editFile(join(d, 'sites', 'ams.yaml'), 'certPath: /etc/haproxy/certs/img.cdn.example.net.pem', 'certPath: /etc/haproxy/certs/img-2027.pem');
    const r = await run(['plan', '--sites', join(d, 'sites'), '--against', 'HEAD', '--json', '--exit-code', '--no-cloud']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(2);
    const plan = JSON.parse(r.out.join('\n'));
    expect(plan.baseline).toEqual({ kind: 'git', source: `HEAD (${commit.slice(0, 12)})`, commit });
    expect(plan.steps.map((s: { title: string; impact: string }) => `${s.title} ${s.impact}`)).toEqual(['ams/ams-lb2 haproxy-reload', 'ams/ams-lb1 haproxy-reload']);
    expect(git('worktree', 'list').trim().split('\n')).toHaveLength(1);
    // Clean: the same ref against itself.
    git('checkout', '-q', '--', 'sites');
    expect((await run(['plan', '--sites', join(d, 'sites'), '--against', 'HEAD', '--exit-code', '--no-cloud'])).code).toBe(0);
  });

  it('<git-ref> whose model does not load: its errors name the ref, exit 1, and the worktree is gone', { timeout: 120_000 }, async () => {
    const d = scratch();
    const git = (...a: string[]) => execFileSync('git', ['-C', d, '-c', 'user.name=t', '-c', 'user.email=t@example.net', ...a], { encoding: 'utf8' });
    git('init', '-q');
    const good = readFileSync(join(d, 'sites', 'ams.yaml'), 'utf8');
    editFile(join(d, 'sites', 'ams.yaml'), 'asn: 64501', 'asn: 0');
    git('add', 'sites');
    git('commit', '-qm', 'a broken model');
    writeFileSync(join(d, 'sites', 'ams.yaml'), good);
    const r = await run(['plan', '--sites', join(d, 'sites'), '--against', 'HEAD', '--no-cloud']);
    expect(r.code).toBe(1);
    expect(r.err.length).toBeGreaterThan(1);
    expect(r.err.slice(0, -1).every((l) => l.startsWith('HEAD:sites/ams.yaml:'))).toBe(true);
    expect(r.err.at(-1)).toMatch(/^\d+ errors?$/);
    expect(git('worktree', 'list').trim().split('\n')).toHaveLength(1);
  });

  it('neither a directory nor a ref: exit 1 naming the value', async () => {
    const d = scratch();
    const r = await run(['plan', '--sites', join(d, 'sites'), '--against', 'no-such-ref']);
    expect(r.code).toBe(1);
    expect(r.err[0]).toBe(`no-such-ref:1:1: --against: "no-such-ref" is neither a directory nor a git ref of the repository holding ${join(d, 'sites')}; pass a commit, branch or tag, or a directory laid out like render output`);
  });
});

describe('output conventions', () => {
  it("the schema's impact classes are exactly the plan's", () => {
    expect(SCHEMA.$defs.impactClass.enum).toEqual(IMPACT_CLASSES);
  });
});
