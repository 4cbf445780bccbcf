// The --json output of render, validate and lab status: real output checked against the
// documented shapes (lib/cli/schemas.ts, from which lib/cli/schemas/*.schema.json are generated),
// and against what is on disk or what was checked.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { labStatusJson } from '../../lib/cli/lab.ts';
import { cliSchemaTexts, labStatusOutput, renderOutput, validateOutput } from '../../lib/cli/schemas.ts';
import { validateJson } from '../../lib/cli/validate.ts';
import { CHECKERS, checkersOf } from '../../lib/check/registry.ts';
import { monitoringPlans, renderPlans } from '../../lib/render/index.ts';
import { loadTopology } from '../../lib/model/load.ts';
import type { RenderedFile } from '../../lib/render/types.ts';
import { missingRoot } from '../helpers/daemons.ts';
import { SITES_DIR } from '../helpers/topology.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'anycdn-json-'));
  dirs.push(d);
  return d;
};

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('the JSON Schema files', () => {
  it('are generated from lib/cli/schemas.ts (npm run schema)', () => {
    for (const [file, text] of Object.entries(cliSchemaTexts())) expect(readFileSync(join(ROOT, file), 'utf8'), file).toBe(text);
  });
});

describe('render --json', () => {
  it('lists every file written, per host, with its mode and size, as on disk', async () => {
    const out = join(scratch(), 'out');
    const r = await run(['render', '--sites', SITES_DIR, '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    const json = renderOutput.parse(JSON.parse(r.out[0]!));
    expect(json.out).toBe(out);
    expect(json.sites).toBe(3);
    const listed = json.hosts.flatMap((h) => h.files.map((f) => ({ ...f, abs: join(h.dir, f.path) })));
    expect(listed).toHaveLength(json.files);
    // Every file on disk is listed once: a host's, or one of the others (routing/, .anycdn/).
    const others = json.other.map((f) => ({ ...f, abs: join(out, f.path) }));
    expect(others.map((f) => f.path)).toEqual(expect.arrayContaining(['.anycdn/manifest.json', 'routing/roas.txt']));
    const onDisk = readdirSync(out, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
    expect([...listed, ...others].map((f) => f.abs).sort()).toEqual(onDisk.sort());
    for (const f of others) expect([f.abs, statSync(f.abs).size]).toEqual([f.abs, f.bytes]);
    for (const f of listed) {
      const s = statSync(f.abs);
      expect([f.abs, s.size, `0${(s.mode & 0o777).toString(8)}`]).toEqual([f.abs, f.bytes, f.mode]);
    }
    expect(json.hosts.map((h) => `${h.site}/${h.host}`)).toEqual([...json.hosts.map((h) => `${h.site}/${h.host}`)].sort());
  });

  it('prints nothing on stdout when the input is bad: the errors go to stderr as lines', async () => {
    const r = await run(['render', '--sites', join(scratch(), 'nope'), '--out', join(scratch(), 'out'), '--json']);
    expect(r).toMatchObject({ code: 1, out: [] });
    expect(r.err.at(-1)).toBe('1 error');
  });
});

describe('validate --json', () => {
  const file = (path: string, host = 'ams-lb1'): RenderedFile => ({ site: 'ams', host, path, content: '', mode: 0o644 });

  it('gives each checked file its checker and result, and a failed file its messages', () => {
    const bad = file('/etc/bird/bird.conf');
    const good = file('/etc/knot/knot.conf');
    const json = validateJson({
      checked: [
        { file: bad, checker: 'bird', ok: false },
        { file: good, checker: 'knot', ok: true },
      ],
      diagnostics: [
        { file: 'ams/ams-lb1/etc/bird/bird.conf', line: 6, col: 3, message: 'bird: syntax error' },
        { file: '/usr/sbin/ip', line: 1, col: 1, message: 'cannot check: /usr/sbin/ip not found; install the Debian package iproute2' },
      ],
    });
    expect(validateOutput.parse(json)).toEqual({
      ok: false,
      files: [
        { file: 'ams/ams-lb1/etc/bird/bird.conf', site: 'ams', host: 'ams-lb1', path: '/etc/bird/bird.conf', checker: 'bird', result: 'fail', message: '6:3: bird: syntax error' },
        { file: 'ams/ams-lb1/etc/knot/knot.conf', site: 'ams', host: 'ams-lb1', path: '/etc/knot/knot.conf', checker: 'knot', result: 'pass' },
      ],
      errors: [
        { file: '/usr/sbin/ip', line: 1, col: 1, message: 'cannot check: /usr/sbin/ip not found; install the Debian package iproute2' },
        { file: 'ams/ams-lb1/etc/bird/bird.conf', line: 6, col: 3, message: 'bird: syntax error' },
      ],
    });
  });

  it('of the shipped sites: every checkable file passes, once each, and progress went to stderr', async (ctx) => {
    const skip = missingRoot();
    if (skip) return ctx.skip(skip);
    const r = await run(['validate', '--sites', SITES_DIR, '--json']);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out).toHaveLength(1);
    const json = validateOutput.parse(JSON.parse(r.out[0]!));
    const topology = loadTopology(SITES_DIR);
    const plans = [...renderPlans(topology), ...monitoringPlans(topology)];
    // Each file once per checker: its daemon's own, then the independent ones (shellcheck, named-checkzone).
    const expected = plans.flatMap((p) => p.files.filter((f) => f.check).flatMap((f) => checkersOf(f.check!, CHECKERS).map((c) => `${f.site}/${f.host}${f.path} ${c.kind}`)));
    expect(json.files.map((f) => `${f.file} ${f.checker}`).sort()).toEqual(expected.sort());
    expect(json.files.filter((f) => f.result !== 'pass')).toEqual([]);
    expect(json).toMatchObject({ ok: true, errors: [] });
    expect(r.err[0]).toMatch(new RegExp(`^validate: loaded 3 sites and rendered \\d+ files to check on ${plans.length} hosts \\(\\d+ ms, \\d+ ms in all\\)$`));
    expect(r.err.filter((l) => /^validate: checked \w+\/[\w-]+: \d+ files, \d+ checker runs \(\d+\/\d+ hosts, \d+ files\)/.test(l))).toHaveLength(plans.length);
    expect(r.err.at(-1)).toMatch(new RegExp(`^validate: done: ${json.files.length} files on ${plans.length} hosts, \\d+ checker runs`));
  });
});

describe('lab status --json', () => {
  it('says a lab that is not running is not running', () => {
    // A lab directory of its own, so a lab another test or engineer has up is not read.
    const out = execFileSync(process.execPath, [join(ROOT, 'bin', 'anycdn.js'), 'lab', 'status', '--json'], {
      env: { ...process.env, ANYCDN_LAB_DIR: join(scratch(), 'lab') },
      encoding: 'utf8',
    });
    expect(labStatusOutput.parse(JSON.parse(out))).toEqual({ running: false, sites: [] });
  });

  it('gives each site its VIP health, nearby DNS answer, NSID, anycast next hops and BFD sessions', () => {
    const state = { sitesDir: 'sites', namespaces: ['acdn-a', 'acdn-b'], processes: [{ pid: 1, ns: 'acdn-a', owner: 'ams-lb1', unit: 'bird' }], holders: {}, startedAt: '2026-11-26T03:00:00.000Z' };
    const json = labStatusJson(state, [
      { site: 'ams', vipHealth: 200, dnsAnswer: '198.51.100.10', nsid: 'ams/ams-lb1', anycastVia: ['10.255.0.1'], vipHolder: 'ams-lb1', checkers: [{ host: 'ams-lb1', state: 'announced' }, { host: 'ams-lb2', state: 'depreferred' }], bfd: [{ host: 'ams-lb1', peer: 'transit1', address: '192.0.2.1', state: 'Down' }] },
      { site: 'sin', vipHealth: 0, anycastVia: [], checkers: [{ host: 'sin-lb1', state: 'not running' }], bfd: [] },
    ]);
    expect(labStatusOutput.parse(json)).toEqual({
      running: true,
      startedAt: '2026-11-26T03:00:00.000Z',
      namespaces: 2,
      processes: 1,
      sites: [
        { site: 'ams', vipHealth: 200, serving: true, dnsAnswer: '198.51.100.10', nsid: 'ams/ams-lb1', anycastVia: ['10.255.0.1'], vipHolder: 'ams-lb1', checkers: [{ host: 'ams-lb1', state: 'announced' }, { host: 'ams-lb2', state: 'depreferred' }], bfd: [{ host: 'ams-lb1', peer: 'transit1', address: '192.0.2.1', state: 'Down' }] },
        { site: 'sin', vipHealth: 0, serving: false, anycastVia: [], checkers: [{ host: 'sin-lb1', state: 'not running' }], bfd: [] },
      ],
    });
  });
});
