// anycdn plan on edits of images.transforms: turning transforms on installs the module before the
// reload (nginx-module-install), a width or quality edit is a reload of nginx and haproxy, and
// turning them off is a reload; Squid caches away from the shield reconfigure. Whole rendered
// files of the shipped model, classified by what changed in them.
import { describe, expect, it } from 'vitest';
import { classifyNginx, classifySquid } from '../../lib/plan/classify.ts';
import { ownerOf } from '../../lib/plan/owners.ts';
import { renderPlans } from '../../lib/render/index.ts';
import { loadEdited } from '../helpers/topology.ts';

const SHIPPED = '\nimages:\n  transforms:\n    widths: [64, 128, 256, 512]\n';
const variant = (images: string) =>
  loadEdited((x) => {
    if (!x['sites/cdn.yaml']!.includes(SHIPPED)) throw new Error('the shipped images section changed shape');
    x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(SHIPPED, images);
  });

/** host -> path -> content of every rendered file. */
function files(images: string): Map<string, string> {
  return new Map(renderPlans(variant(images)).flatMap((p) => p.files.map((f) => [`${p.host}${f.path}`, f.content] as const)));
}

/** The classes of each changed file between two variants, by host and the daemon that reads it. */
function classes(before: string, after: string): Record<string, string[]> {
  const a = files(before);
  const b = files(after);
  const out: Record<string, string[]> = {};
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const [x, y] = [a.get(key) ?? '', b.get(key) ?? ''];
    if (x === y) continue;
    const path = key.slice(key.indexOf('/'));
    const owner = ownerOf(path);
    out[`${key.slice(0, key.indexOf('/'))} ${owner?.unit ?? '?'}`] = [...new Set((owner?.classify ?? (() => []))(x, y).map((i) => i.class))].sort();
  }
  return out;
}

describe('plan: images.transforms', () => {
  it('turning transforms on: the nginx caches install the module before the reload; haproxy reloads; Squid reconfigures', () => {
    expect(classes('\n', SHIPPED)).toEqual({
      'ams-cache1 nginx': ['nginx-module-install', 'nginx-reload'],
      'ams-cache2 nginx': ['nginx-module-install', 'nginx-reload'],
      'ams-lb1 haproxy': ['haproxy-reload'],
      'ams-lb2 haproxy': ['haproxy-reload'],
      'nyc-cache1 squid': ['squid-reconfigure'],
      'nyc-cache2 squid': ['squid-reconfigure'],
      'nyc-lb1 haproxy': ['haproxy-reload'],
      'nyc-lb2 haproxy': ['haproxy-reload'],
      'sin-cache1 nginx': ['nginx-module-install', 'nginx-reload'],
      'sin-cache2 nginx': ['nginx-module-install', 'nginx-reload'],
      'sin-lb1 haproxy': ['haproxy-reload'],
      'sin-lb2 haproxy': ['haproxy-reload'],
    });
  });

  it('a width or a quality changed: reloads, the caches keep what they hold', () => {
    const edited = '\nimages:\n  transforms:\n    widths: [64, 128, 256, 1024]\n    jpegQuality: 70\n';
    const c = classes(SHIPPED, edited);
    expect(Object.keys(c).filter((k) => k.endsWith('nginx')).map((k) => c[k])).toEqual(Array(4).fill(['nginx-reload']));
    expect(Object.keys(c).filter((k) => k.endsWith('haproxy')).map((k) => c[k])).toEqual(Array(6).fill(['haproxy-reload']));
    expect(Object.keys(c).some((k) => k.endsWith('squid'))).toBe(false);
  });

  it('turning transforms off is a reload (the module stays installed)', () => {
    const c = classes(SHIPPED, '\n');
    expect(new Set(Object.values(c).flat())).toEqual(new Set(['nginx-reload', 'haproxy-reload', 'squid-reconfigure']));
  });

  it('a load_module added is classified by the statement, not the file', () => {
    const conf = `events {\n}\nhttp {\n}\n`;
    expect(classifyNginx(conf, `load_module /usr/lib/nginx/modules/x.so;\n${conf}`).map((i) => i.class)).toEqual(['nginx-module-install']);
    expect(classifyNginx(`load_module /usr/lib/nginx/modules/x.so;\n${conf}`, conf).map((i) => i.class)).toEqual(['nginx-reload']);
    expect(classifySquid('acl a src 1.2.3.4\n', 'acl a src 1.2.3.4\nacl derived urlpath_regex ^/_w/\n').map((i) => i.class)).toEqual(['squid-reconfigure']);
  });
});
