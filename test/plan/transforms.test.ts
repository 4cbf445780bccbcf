// anycdn plan on edits of images.transforms, built as the CLI builds it (test/plan/harness.ts):
// turning transforms on adds anycdn-thumbnailer to every nginx cache (daemon-add) and reloads nginx
// and haproxy; a width, format or quality edit reloads the thumbnailer (SIGHUP), nginx and haproxy;
// a new listener needs a restart of the thumbnailer; turning them off removes it. Squid caches away
// from the shield reconfigure. The thumbnailer config's own classifier is tested key by key.
import { describe, expect, it } from 'vitest';
import { classifyThumbnailerConf } from '../../lib/plan/classify.ts';
import { ownerOf } from '../../lib/plan/owners.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replace, type Texts } from '../model/fixtures.ts';
import { SITES_DIR } from '../helpers/topology.ts';
import { classLines, planOf } from './harness.ts';

const SHIPPED = '\nimages:\n  transforms:\n    widths: [64, 128, 256, 512]\n    formats: [avif, webp]\n';
/** The shipped sites/ (the pinned fixtures have no images section). */
const shipped = (): Texts => Object.fromEntries(readdirSync(SITES_DIR).filter((n) => n.endsWith('.yaml')).sort().map((n) => [`sites/${n}`, readFileSync(join(SITES_DIR, n), 'utf8')]));
const variant = (images: string) => replace(shipped(), 'sites/cdn.yaml', SHIPPED, images);
const off = () => variant('\n');

/** The daemon classes of a plan, without the host-level lines. */
const daemonLines = (lines: string[]) => lines.filter((l) => l.split(' ').length === 3);

describe('plan: images.transforms', () => {
  it('turning transforms on: the thumbnailer is added to every nginx cache; nginx and haproxy reload; Squid reconfigures', () => {
    expect(daemonLines(classLines(planOf(shipped(), undefined, off())))).toEqual([
      'ams/ams-cache1 anycdn-thumbnailer daemon-add',
      'ams/ams-cache1 nginx nginx-reload',
      'ams/ams-cache2 anycdn-thumbnailer daemon-add',
      'ams/ams-cache2 nginx nginx-reload',
      'ams/ams-lb1 haproxy haproxy-reload',
      'ams/ams-lb2 haproxy haproxy-reload',
      'nyc/nyc-cache1 squid squid-reconfigure',
      'nyc/nyc-cache2 squid squid-reconfigure',
      'nyc/nyc-lb1 haproxy haproxy-reload',
      'nyc/nyc-lb2 haproxy haproxy-reload',
      'sin/sin-cache1 anycdn-thumbnailer daemon-add',
      'sin/sin-cache1 nginx nginx-reload',
      'sin/sin-cache2 anycdn-thumbnailer daemon-add',
      'sin/sin-cache2 nginx nginx-reload',
      'sin/sin-lb1 haproxy haproxy-reload',
      'sin/sin-lb2 haproxy haproxy-reload',
    ]);
  });

  it('a width, a format or a quality changed: the thumbnailer reloads, so do nginx and haproxy; the caches keep what they hold', () => {
    const edited = variant('\nimages:\n  transforms:\n    widths: [64, 128, 256, 1024]\n    formats: [webp]\n    jpegQuality: 70\n');
    const lines = daemonLines(classLines(planOf(edited, undefined, shipped())));
    expect(lines.filter((l) => / anycdn-thumbnailer /.test(l))).toEqual(['ams-cache1', 'ams-cache2', 'sin-cache1', 'sin-cache2'].map((h) => `${h.slice(0, 3)}/${h} anycdn-thumbnailer thumbnailer-reload`));
    // Squid keeps its config: the derived paths and the shield's Vary: Accept are as before
    expect(new Set(lines.map((l) => l.split(' ')[2]))).toEqual(new Set(['thumbnailer-reload', 'nginx-reload', 'haproxy-reload']));
  });

  it('turning transforms off removes the thumbnailer; nginx and haproxy reload', () => {
    const lines = daemonLines(classLines(planOf(off(), undefined, shipped())));
    expect(lines.filter((l) => / anycdn-thumbnailer /.test(l))).toEqual(['ams-cache1', 'ams-cache2', 'sin-cache1', 'sin-cache2'].map((h) => `${h.slice(0, 3)}/${h} anycdn-thumbnailer daemon-remove`));
    expect(new Set(lines.map((l) => l.split(' ')[2]))).toEqual(new Set(['daemon-remove', 'nginx-reload', 'haproxy-reload', 'squid-reconfigure']));
  });

  it('the thumbnailer config: settings reload, a listener or the connection limit restarts, a new program restarts', () => {
    const conf = (over: Record<string, unknown> = {}) => `${JSON.stringify({ '//': 'header', listen: { address: '127.0.0.1', port: 8089 }, workers: 2, maxConnections: 64, quality: { avif: 50 }, ...over }, null, 2)}\n`;
    const classes = (a: string, b: string) => classifyThumbnailerConf(a, b, { before: undefined, after: undefined }).map((i) => `${i.class}: ${i.reason}`);
    expect(classes(conf(), conf())).toEqual([]);
    expect(classes(conf(), conf({ '//': 'another header' }))).toEqual(['thumbnailer-reload: the thumbnailer config (layout only)']);
    expect(classes(conf(), conf({ workers: 3, quality: { avif: 40 } }))).toEqual(['thumbnailer-reload: workers: 2 -> 3', 'thumbnailer-reload: quality.avif: 50 -> 40']);
    expect(classes(conf(), conf({ listen: { address: '127.0.0.1', port: 8099 } }))).toEqual(['thumbnailer-restart: listen.port: 8089 -> 8099']);
    expect(classes(conf(), conf({ maxConnections: 32 }))).toEqual(['thumbnailer-restart: maxConnections: 64 -> 32']);
    expect(classes(conf(), 'not json')).toEqual(['thumbnailer-restart: the thumbnailer config']);
    expect(ownerOf(PATHS.thumbnailer)?.classify('a', 'b', { before: undefined, after: undefined }).map((i) => i.class)).toEqual(['thumbnailer-restart']);
    expect([ownerOf(PATHS.thumbnailer)?.unit, ownerOf(PATHS.thumbnailerConf)?.unit]).toEqual(['anycdn-thumbnailer', 'anycdn-thumbnailer']);
  });
});
