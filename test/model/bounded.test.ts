// Bounded errors (issue 24 item 5): at most 100 error lines and one `and N more`, work linear in
// the input (60,000 unknown keys once took 249 s; the time is a bench row, not asserted here), and
// no message echoes more than a bounded, escaped piece of what the user's file holds.
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { MAX_ERROR_LINES, reportLines, type Diagnostic } from '../../lib/model/errors.ts';
import { SITES_DIR } from '../helpers/topology.ts';
import { edit, errors, shipped } from './fixtures.ts';

const S = shipped();
const NYC = 'sites/nyc.yaml';
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Printable ASCII only: no newline, no escape sequence, no lookalike of the user's text. */
const PRINTABLE = /^[\x20-\x7e]*$/;

describe('at most 100 error lines, then one "and N more"', () => {
  const d = (i: number): Diagnostic => ({ file: 'sites/x.yaml', line: i + 1, col: 1, message: `e${i}` });

  test.each<[count: number, lines: number, last: string]>([
    [1, 1, 'sites/x.yaml:1:1: e0'],
    [MAX_ERROR_LINES, 100, 'sites/x.yaml:100:1: e99'],
    [MAX_ERROR_LINES + 1, 101, 'and 1 more'],
    [60_000, 101, 'and 59900 more'],
  ])('%i errors: %i lines', (count, lines, last) => {
    const r = reportLines(Array.from({ length: count }, (_, i) => d(i)));
    expect([r.lines.length, r.lines.at(-1), r.count]).toEqual([lines, last, count]);
  });

  test('a site file with 60,000 unknown keys (0.7 MB): render prints 100 of them, "and 59900 more" and the count, and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anycdn-bounded-'));
    dirs.push(dir);
    const sites = join(dir, 'sites');
    cpSync(SITES_DIR, sites, { recursive: true });
    const keys = Array.from({ length: 60_000 }, (_, i) => `unknown${String(i).padStart(5, '0')}: 1\n`).join('');
    writeFileSync(join(sites, 'nyc.yaml'), `${S[NYC]}${keys}`);
    expect(keys.length).toBeGreaterThan(0.7e6);
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['render', '--sites', sites, '--out', join(dir, 'out')], { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect([code, out, err.length, err.at(-2), err.at(-1)]).toEqual([1, [], 102, 'and 59900 more', '60000 errors']);
    // The first hundred in file order, each naming its key; the file is the copy's.
    const allowed = 'allowed here: $schema, availabilityZones, bgp, drain, haproxy, hosts, id, location, platform, raw, region, state, subnets, vip';
    expect(err[0]).toBe(`${join(sites, 'nyc.yaml')}:44:1: unknown00000: unknown key; ${allowed}`);
    expect(err[99]).toBe(`${join(sites, 'nyc.yaml')}:143:1: unknown00099: unknown key; ${allowed}`);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});

describe('no message echoes more than a bounded piece of the file', () => {
  const append = (yaml: string) => edit(S, [NYC, '# AS: bgp.originAsn in cdn.yaml\n', `# AS: bgp.originAsn in cdn.yaml\n${yaml}`]);

  test('a hostile unknown key is quoted, escaped and cut', () => {
    // The longest implicit key YAML takes is 1024 characters of source.
    const key = `\u001b[2J${'k'.repeat(900)}\nroot:$6$hash`;
    const lines = errors(append(`${JSON.stringify(key)}: 1\n`));
    expect(lines).toEqual([
      `sites/nyc.yaml:6:1: ["\\u001b[2J${'k'.repeat(56)}... (917 characters)"]: unknown key; allowed here: $schema, availabilityZones, bgp, drain, haproxy, hosts, id, location, platform, raw, region, state, subnets, vip`,
    ]);
    expect(lines[0]).toMatch(PRINTABLE);
  });

  test('a hostile key in a nested mapping, and a hostile record key, likewise', () => {
    expect(errors(edit(S, [NYC, '  lan6: 2001:db8:b::/64\n', `  lan6: 2001:db8:b::/64\n  ${JSON.stringify(`x\n${'y'.repeat(500)}`)}: 198.51.100.128/26\n`]))).toEqual([
      `sites/nyc.yaml:10:3: subnets["x\\n${'y'.repeat(58)}... (502 characters)"]: key is not an allowed key here, got "x\\n${'y'.repeat(58)}... (502 characters)"`,
    ]);
  });

  test('a duplicate hostile key', () => {
    const key = JSON.stringify(`d\u202e${'z'.repeat(300)}`);
    const lines = errors(append(`${key}: 1\n${key}: 2\n`));
    expect(lines).toEqual([`sites/nyc.yaml:7:1: yaml: duplicate key "d\\u202e${'z'.repeat(58)}... (302 characters)"; keep only one`]);
  });

  test('an alias of a hostile, long anchor name', () => {
    const lines = errors(append(`x: *${'a'.repeat(5000)}\n`));
    expect(lines).toEqual([`sites/nyc.yaml:6:4: yaml: alias *"${'a'.repeat(60)}... (5000 characters)" has no anchor &"${'a'.repeat(60)}... (5000 characters)" before it; define the anchor first`]);
  });

  test('a yaml library message that quotes the source (a block scalar header) is cut', () => {
    expect(errors(append(`x: |${'t'.repeat(5000)}\n  a\n`))).toEqual([`sites/nyc.yaml:6:5: yaml: block scalar header includes extra characters: |${'t'.repeat(112)}...`]);
  });

  test.each<[file: string, what: string, text: string]>([
    [NYC, 'shadow lines, which YAML reads as a mapping of keys ending in ::', 'root:$6$rounds=5000$saltsalt$hashhashhashhash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n'],
    ['sites/cdn.yaml', 'another YAML file', 'apiVersion: v1\nkind: Secret\ndata:\n  password: aHVudGVyMg==\n'],
  ])('%s holding none of the model\'s keys (%s): one line, none of its content', (file, _what, text) => {
    const which = file === NYC
      ? "a site file's (availabilityZones, bgp, drain, haproxy, hosts, id, location, platform, raw, region, state, subnets, vip)"
      : "cdn.yaml's (acme, anycast, bgp, cache, dns, healthcheck, imageHost, images, internal, monitoring, origin, shield)";
    expect(errors({ ...S, [file]: text })).toEqual([`${file}:1:1: none of the keys is one of ${which}; is this the right file?`]);
  });

  test.each<[what: string, text: string]>([
    ['shadow-like lines without the trailing colons', 'root:$6$rounds=5000$saltsalt$hashhashhashhash:19000:0:99999:7\ndaemon:*:19000:0:99999:7\n'],
    ['a list', '- root:$6$hash\n- daemon:*\n'],
    ['a list with syntax errors in it', '- [root:$6$hash\n- {daemon: *x\n- "unterminated\n'],
    ['one long line of text', `${'secret '.repeat(20_000)}\n`],
  ])('a file whose top level is not a mapping (%s): one line, none of its content', (_what, text) => {
    expect(errors({ ...S, [NYC]: text })).toEqual(['sites/nyc.yaml:1:1: the file must hold a mapping of keys to values']);
  });
});
