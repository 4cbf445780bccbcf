// Knot SOA serials: derived from the content and the previous render (out/.anycdn/manifest.json),
// never the clock. The same model renders the same bytes every time; a change of the records
// raises the serial by one; the operator's own higher dns.soa.serial wins.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { serialGreater, zoneSerial } from '../../lib/render/serial.ts';
import { loadTopology } from '../../lib/model/load.ts';
import { recordedContext } from '../../lib/out/manifest.ts';
import { outputPath, renderTopology } from '../../lib/render/index.ts';
import { SITES_DIR } from '../helpers/topology.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const quiet = { out: () => {}, err: () => {} };

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) out[join(e.parentPath, e.name).slice(dir.length)] = readFileSync(join(e.parentPath, e.name), 'utf8');
  return out;
}

describe('zone serials across renders', () => {
  it('count on from the manifest: same model same bytes, a record change +1, and back again +1', { timeout: 120_000 }, async () => {
    const d = mkdtempSync(join(tmpdir(), 'anycdn-serial-'));
    dirs.push(d);
    cpSync(SITES_DIR, join(d, 'sites'), { recursive: true });
    const render = () => main(['render', '--sites', join(d, 'sites'), '--out', join(d, 'out')], quiet);
    const soa = () => /IN SOA\s+\S+ \S+ (\d+) /.exec(readFileSync(join(d, 'out', 'ams/ams-lb1/etc/knot/zones/cdn.example.net.zone'), 'utf8'))![1];
    const cdn = join(d, 'sites', 'cdn.yaml');
    const original = readFileSync(cdn, 'utf8');

    expect(await render()).toBe(0);
    const first = tree(join(d, 'out'));
    expect(soa()).toBe('1');
    expect(await render()).toBe(0);
    expect(tree(join(d, 'out'))).toEqual(first);

    writeFileSync(cdn, original.replace('ttlSec: 60', 'ttlSec: 120'));
    await render();
    expect(soa()).toBe('2');
    await render();
    expect(soa()).toBe('2');
    const manifest = JSON.parse(readFileSync(join(d, 'out', '.anycdn', 'manifest.json'), 'utf8'));
    expect(manifest.files.find((f: { path: string }) => f.path === 'ams/ams-lb1/etc/knot/zones/cdn.example.net.zone')).toMatchObject({ mode: '0644', soaSerial: 2 });

    // Back to the first content: the hosts have seen serial 2, so it must be 3, not 1.
    writeFileSync(cdn, original);
    await render();
    expect(soa()).toBe('3');
    // A model change that does not touch the zone leaves its serial alone.
    writeFileSync(cdn, original.replace('intervalMs: 150', 'intervalMs: 200'));
    await render();
    expect(soa()).toBe('3');

    // What the CDK app and the Pulumi program ship: the same bytes as out/, serial 3 included.
    const shipped = renderTopology(loadTopology(join(d, 'sites')), recordedContext(join(d, 'out')));
    expect(shipped.map((f) => [outputPath(f), f.content])).toEqual(shipped.map((f) => [outputPath(f), readFileSync(join(d, 'out', outputPath(f)), 'utf8')]));
  });

  it('the rule, without a render', () => {
    const text = (s: number) => `zone with serial ${s}\n`;
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(zoneSerial(text, 1, undefined)).toBe(1);
    expect(zoneSerial(text, 1, { serial: 7, sha256: sha(text(7)) })).toBe(7);
    expect(zoneSerial(text, 1, { serial: 7, sha256: sha('other content') })).toBe(8);
    expect(zoneSerial(text, 100, { serial: 7, sha256: sha(text(7)) })).toBe(100);
    expect(zoneSerial(text, 1, { serial: 2 ** 32 - 1, sha256: sha('other') })).toBe(0);
    expect(serialGreater(0, 2 ** 32 - 1)).toBe(true);
    expect(serialGreater(5, 5)).toBe(false);
    expect(serialGreater(4, 5)).toBe(false);
  });
});
