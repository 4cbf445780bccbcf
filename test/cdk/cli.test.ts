// The real CLI, offline: `cdk synth` under `unshare -n` (no network at all) gives the very
// templates the in-process tests check, and bin/cdk.ts prints model errors as FILE:LINE:COL.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { edit, shipped as pinned } from '../model/fixtures.ts';
import { App } from 'aws-cdk-lib';
import { builtinValidation, nagChecks } from '../../lib/cdk/context.ts';
import { cliContext, synth } from './synth.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CDK = join(ROOT, 'node_modules', '.bin', 'cdk');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

/** A hang guard, not a speed test: synth takes about 40 s here idle and twice that when busy. */
const SPAWN_BOUND_MS = 600_000;

const canUnshare = spawnSync('unshare', ['-n', 'true']).status === 0;
if (!canUnshare && process.env.CI === 'true') throw new Error('unshare -n is not permitted here; the offline synth test needs it under CI');

describe('npx cdk synth', () => {
  it.skipIf(!canUnshare)('runs offline under unshare -n and matches the in-process templates', () => {
    const out = mkdtempSync(join(tmpdir(), 'anycdn-cdk-cli-'));
    // With aws-cdk-lib's built-in validation, which outside CI runs only when asked: its findings are read here.
    const r = spawnSync('unshare', ['-n', CDK, 'synth', '--no-lookups', '-q', '-o', out], { cwd: ROOT, encoding: 'utf8', timeout: SPAWN_BOUND_MS, env: { ...process.env, CDK_VALIDATION: 'true' } });
    // The only warnings are the ones synth means to give: the metal sites' VIP alarms page no one
    // without anycdn:alarm-topic-arn (lib/cloud/shape.ts alarmPagesNoOne).
    expect(r.stderr.split('\n').filter((l) => /error|warning/i.test(l) && !/npm warn/i.test(l))).toEqual(
      ['ams', 'nyc'].map((site) => `WARNING the VIP alarm of site ${site} pages no one: set context anycdn:alarm-topic-arn to an SNS topic ARN (us-east-1) that reaches your on-call (Annotation)`),
    );
    expect(r.status).toBe(0);
    const s = synth();
    for (const name of s.stackNames) {
      expect(JSON.parse(readFileSync(join(out, `${name}.template.json`), 'utf8')), name).toEqual(s.json(name));
    }
    // About 5 s on an idle 2-core machine; a busy one (CI, a parallel suite) may take many times that.
  }, 300_000);
});

describe('aws-cdk-lib built-in validation', () => {
  it('runs in CI and when asked, never when turned off', () => {
    expect(builtinValidation({})).toBe(false);
    expect(builtinValidation({ CI: 'true' })).toBe(true);
    expect(builtinValidation({ CDK_VALIDATION: 'true' })).toBe(true);
    expect(builtinValidation({ CI: 'true', CDK_VALIDATION: 'false' })).toBe(false);
  });
});

describe('cdk-nag in `cdk synth`', () => {
  const app = (nag?: unknown) => new App({ context: nag === undefined ? {} : { 'anycdn:nag': nag } });
  it('runs with the built-in validation (CI, CDK_VALIDATION=true), or as context anycdn:nag says', () => {
    expect(nagChecks(app(), {})).toBe(false);
    expect(nagChecks(app(), { CI: 'true' })).toBe(true);
    expect(nagChecks(app(), { CDK_VALIDATION: 'true' })).toBe(true);
    expect(nagChecks(app(), { CI: 'true', CDK_VALIDATION: 'false' })).toBe(false);
    expect(nagChecks(app(true), {})).toBe(true);
    expect(nagChecks(app('true'), {})).toBe(true);
    expect(nagChecks(app('false'), { CI: 'true' })).toBe(false);
    expect(() => nagChecks(app('yes'), {})).toThrow('context anycdn:nag: must be true or false, got "yes"');
  });
});

describe('bin/cdk.ts', () => {
  it('prints model errors as FILE:LINE:COL lines and a count, and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'anycdn-cdk-bad-'));
    mkdirSync(join(dir, 'sites'));
    // Positions are asserted, so this edits the pinned copy of the example.
    const texts = edit(pinned(), ['sites/sin.yaml', '    address: 10.30.0.22', '    address: 10.30.0.3']);
    for (const [name, text] of Object.entries(texts)) writeFileSync(join(dir, name), text);
    const r = spawnSync(TSX, [join(ROOT, 'bin', 'cdk.ts')], {
      cwd: dir,
      encoding: 'utf8',
      timeout: SPAWN_BOUND_MS,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(cliContext()), CDK_OUTDIR: join(dir, 'cdk.out') },
    });
    expect(r.stderr.trim().split('\n')).toEqual([
      'sites/sin.yaml:36:14: hosts[3].address: 10.30.0.3 (sin-cache2) is reserved by AWS in 10.30.0.0/24 (the first four and the last address); pick another',
      '1 error(s)',
    ]);
    expect(r.status).toBe(1);
  });

  it('prints bad context as one line naming the key, without a stack trace, and exits 2', () => {
    const r = spawnSync(TSX, [join(ROOT, 'bin', 'cdk.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: SPAWN_BOUND_MS,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(cliContext({ 'anycdn:account': '1234' })), CDK_OUTDIR: join(mkdtempSync(join(tmpdir(), 'anycdn-cdk-ctx-')), 'cdk.out') },
    });
    expect(r.stderr.trim().split('\n')).toEqual([
      'context anycdn:account: must be a 12-digit AWS account id, got "1234"; set it in cdk.json or with -c anycdn:account=ACCOUNT',
      '1 error(s)',
    ]);
    expect(r.status).toBe(2);
  });
});
