// The anycast DNS slice against the real checkers: every shipped file passes, and one known-bad
// file per checker is rejected with a located diagnostic (which proves the check can fail).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFiles } from '../../lib/check/run.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { renderTopology } from '../../lib/render/index.ts';
import type { CheckKind, RenderedFile } from '../../lib/render/types.ts';
import { missingBinary, missingRoot } from '../helpers/daemons.ts';
import { SITES_DIR } from '../helpers/topology.ts';

const BAD = join(import.meta.dirname, '..', 'fixtures', 'bad');

const CASES: { kind: CheckKind; binary: string; pkg: string; bad: string; path: string; expectLine: number; expect: RegExp }[] = [
  { kind: 'bird', binary: '/usr/sbin/bird', pkg: 'bird2', bad: 'bird.conf', path: '/etc/bird/bird.conf', expectLine: 6, expect: /^bird: .*syntax error/ },
  { kind: 'knot', binary: '/usr/sbin/knotc', pkg: 'knot', bad: 'knot.conf', path: '/etc/knot/knot.conf', expectLine: 4, expect: /^knotc: .*invalid item/ },
  { kind: 'zone', binary: '/usr/bin/kzonecheck', pkg: 'knot-dnssecutils', bad: 'cdn.example.net.zone', path: '/etc/knot/zones/cdn.example.net.zone', expectLine: 4, expect: /^kzonecheck: / },
  { kind: 'shell', binary: '/bin/sh', pkg: 'dash', bad: 'anycdn-healthcheck', path: '/usr/local/sbin/anycdn-healthcheck', expectLine: 5, expect: /^sh -n: / },
];

const shipped = renderTopology(loadTopology(SITES_DIR));

describe.each(CASES)('$kind checker', ({ kind, binary, pkg, bad, path, expectLine, expect: pattern }) => {
  it('accepts every shipped file of its kind', async (ctx) => {
    const skip = missingBinary(binary, pkg) ?? missingRoot();
    if (skip) return ctx.skip(skip);
    const files = shipped.filter((f) => f.check === kind);
    expect(files.length).toBeGreaterThan(0);
    const report = await checkFiles(shipped, { only: [kind] });
    expect(report.diagnostics).toEqual([]);
    expect(report.checked.map((c) => c.ok)).toEqual(files.map(() => true));
  });

  it('rejects a known-bad file with a located diagnostic', async (ctx) => {
    const skip = missingBinary(binary, pkg) ?? missingRoot();
    if (skip) return ctx.skip(skip);
    const file: RenderedFile = { site: 'bad', host: 'bad-host', path, content: readFileSync(join(BAD, bad), 'utf8'), mode: 0o644, check: kind };
    const report = await checkFiles([file]);
    expect(report.checked).toEqual([{ file, checker: kind, ok: false }]);
    const first = report.diagnostics[0]!;
    expect(first.file).toBe(`bad/bad-host${path}`);
    expect(first.line).toBe(expectLine);
    expect(first.message).toMatch(pattern);
  });
});
