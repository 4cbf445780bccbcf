// Derived images (images.transforms) in the rendered files, on edited copies of the shipped sites:
// the nginx caches' three steps, haproxy's refusal and its derived backend at a transforming site
// with Squid caches, and nothing at all without transforms. Whole blocks, not `contains`.
import { describe, expect, it } from 'vitest';
import { hasRole } from '../../lib/model/facts.ts';
import type { Topology } from '../../lib/model/schema.ts';
import { haproxyConfig } from '../../lib/render/haproxy.ts';
import { renderNginx } from '../../lib/render/nginx.ts';
import { renderSquid } from '../../lib/render/squid.ts';
import { emitHaproxy } from '../../lib/render/syntax/haproxy.ts';
import { loadEdited } from '../helpers/topology.ts';

function render(t: Topology, hostName: string): string {
  for (const site of t.sites) {
    const host = site.hosts.find((h) => h.name === hostName);
    if (!host) continue;
    if (hasRole(host, 'lb')) return emitHaproxy(haproxyConfig(t, site, host)).join('\n');
    return [...renderNginx(t, site, host), ...renderSquid(t, site, host)].map((f) => f.content).join('\n');
  }
  throw new Error(`no host ${hostName}`);
}

/** The block that starts with `head` (the first one), through its closing brace, unindented. */
function block(content: string, head: string): string {
  const lines = content.split('\n');
  const start = lines.findIndex((l) => l.trim() === `${head} {`);
  if (start < 0) throw new Error(`no block ${head}`);
  const indent = /^\t*/.exec(lines[start]!)![0];
  const end = lines.findIndex((l, i) => i > start && l === `${indent}}`);
  return lines.slice(start, end + 1).map((l) => l.slice(indent.length)).join('\n');
}

/** A haproxy section, from its head line to the next blank line. */
function section(content: string, head: string): string {
  const lines = content.split('\n');
  const start = lines.indexOf(head);
  if (start < 0) throw new Error(`no section ${head}`);
  const end = lines.findIndex((l, i) => i > start && l === '');
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

const noTransforms = (x: Record<string, string>) => {
  x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/\nimages:\n  transforms:\n    widths: .*\n/, '\n');
};
/** ams, the shield, with nyc-cache1's twin: a Squid cache among its nginx caches. */
const squidAtShield = (x: Record<string, string>) => {
  x['sites/ams.yaml'] = x['sites/ams.yaml']!.replace(
    '  - name: ams-cache2\n    roles: [cache]\n    cacheEngine: nginx\n    address: 198.51.100.22\n',
    '  - name: ams-cache2\n    roles: [cache]\n    cacheEngine: nginx\n    address: 198.51.100.22\n  - name: ams-cache3\n    roles: [cache]\n    cacheEngine: squid\n    address: 198.51.100.23\n',
  );
};

describe('derived images', () => {
  const shipped = loadEdited();

  it('at the shield: the image server caches derived paths and asks its own transform server on a miss', () => {
    const conf = render(shipped, 'ams-cache1');
    expect(block(conf, 'location ^~ /_w/')).toBe(
      [
        'location ^~ /_w/ {',
        '\tlocation ~ ^/_w/[^/]*/_w/ {',
        '\t\treturn 400;',
        '\t}',
        '\tlocation ~ ^/_w/(64|128|256|512)/[^/] {',
        '\t\trewrite ^ $uri? break;',
        '\t\tproxy_pass http://anycdn_transform;',
        '\t\tproxy_set_header Host img.cdn.example.net;',
        '\t\tproxy_set_header Connection "";',
        '\t\tproxy_set_header Cookie "";',
        '\t\tproxy_set_header Authorization "";',
        '\t}',
        '\treturn 400;',
        '}',
      ].join('\n'),
    );
    expect(conf).not.toMatch(/@anycdn_transform/);
    expect(block(conf, 'upstream anycdn_originals')).toBe('upstream anycdn_originals {\n\tserver 198.51.100.21:80;\n\tkeepalive 16;\n}');
    expect(block(conf, 'location ~ ^/_w/(?<anycdn_width>64|128|256|512)/')).toBe(
      [
        'location ~ ^/_w/(?<anycdn_width>64|128|256|512)/ {',
        '\timage_filter resize $anycdn_width -;',
        "\t# the original: this host's image server, which caches it under its own path",
        '\trewrite ^/_w/[0-9]+(/.*)$ $1 break;',
        '\tproxy_pass http://anycdn_originals;',
        '\tproxy_http_version 1.1;',
        '\tproxy_set_header Host img.cdn.example.net;',
        '\tproxy_set_header Connection "";',
        '\tproxy_set_header Cookie "";',
        '\tproxy_set_header Authorization "";',
        '}',
      ].join('\n'),
    );
  });

  it('away from the shield: derived misses go to the shield, and are made here only while it fails', () => {
    const conf = render(shipped, 'sin-cache1');
    expect(block(conf, 'location ~ ^/_w/(64|128|256|512)/[^/]')).toContain('\tproxy_pass http://shield;\n');
    expect(block(conf, 'location ~ ^/_w/(64|128|256|512)/[^/]')).toContain('\terror_page 500 502 503 504 = @anycdn_transform;\n');
    expect(block(conf, 'location @anycdn_transform').split('\n').slice(0, 3)).toEqual(['location @anycdn_transform {', '\trewrite ^ $uri? break;', '\tproxy_pass http://anycdn_transform;']);
  });

  it('the model quality and buffer reach image_filter', () => {
    const t = loadEdited((x) => {
      x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace('    widths: [64, 128, 256, 512]\n', '    widths: [512, 96]\n    pathPrefix: /thumbs\n    jpegQuality: 70\n    webpQuality: 60\n    maxSourceMiB: 4\n');
    });
    const conf = render(t, 'ams-cache2');
    expect(conf.match(/^\t\timage_filter_\w+ .*$/gm)).toEqual([
      '\t\timage_filter_buffer 4m;',
      '\t\timage_filter_jpeg_quality 70;',
      '\t\timage_filter_webp_quality 60;',
      '\t\timage_filter_interlace off;',
      '\t\timage_filter_transparency on;',
    ]);
    expect(conf).toMatch(/^\t\t\tlocation ~ \^\/thumbs\/\(96\|512\)\/\[\^\/\] \{$/m);
  });

  it('haproxy refuses everything else under the prefix, at every site, before any backend', () => {
    for (const host of ['ams-lb1', 'nyc-lb2', 'sin-lb1']) {
      const cfg = render(shipped, host);
      expect(cfg.split('\n').filter((l) => /derived/.test(l))).toEqual([
        '\t# derived images (images.transforms): only /_w/<width>/<path> with a listed width; the rest is refused here, before it costs CPU',
        '\tacl derived path_beg /_w/',
        '\tacl derived_ok path_reg ^/_w/(64|128|256|512)/[^/]',
        '\tacl derived_nested path_reg ^/_w/[^/]*/_w/',
        '\thttp-request return status 400 content-type text/plain string "derived images: /_w/<width>/<image path> with width one of 64, 128, 256, 512" if derived !derived_ok or derived_nested',
      ]);
    }
  });

  it('a shield with a Squid cache: derived requests go to its nginx caches, balanced like the rest', () => {
    const t = loadEdited(squidAtShield);
    const cfg = render(t, 'ams-lb1');
    expect(cfg).toMatch(/\tuse_backend derived if derived\n\tdefault_backend caches\n/);
    const caches = section(cfg, 'backend caches').split('\n');
    const derived = section(cfg, 'backend derived').split('\n');
    expect(derived[0]).toBe('backend derived');
    // every line of `caches` but the Squid cache's server line, in the same order
    expect(derived.slice(1)).toEqual(caches.slice(1).filter((l) => !/^\tserver ams-cache3 /.test(l)));
    expect(derived.filter((l) => l.startsWith('\tserver '))).toEqual([
      '\tserver ams-cache1 198.51.100.21:80 track check-nginx/ams-cache1 id 313213',
      '\tserver ams-cache2 198.51.100.22:80 track check-nginx/ams-cache2 id 312778',
    ]);
    expect(render(t, 'ams-cache3')).toMatch(/\ncache_peer_access origin deny derived\n/);
  });

  it('without images.transforms nothing of it is rendered', () => {
    const t = loadEdited(noTransforms);
    for (const host of ['ams-cache1', 'sin-cache2', 'nyc-cache1', 'ams-lb1', 'nyc-lb1']) {
      expect(render(t, host), host).not.toMatch(/_w|image_filter|load_module|derived|anycdn_transform|8089/);
    }
  });
});
