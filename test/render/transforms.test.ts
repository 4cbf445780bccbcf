// Derived images (images.transforms) in the rendered files, on edited copies of the shipped sites:
// the nginx caches' three steps, haproxy's refusal and its derived backend at a transforming site
// with Squid caches, and nothing at all without transforms. Whole blocks, not `contains`.
import { describe, expect, it } from 'vitest';
import { hasRole } from '../../lib/model/facts.ts';
import type { Topology } from '../../lib/model/schema.ts';
import { haproxyConfig } from '../../lib/render/haproxy.ts';
import { renderNginx } from '../../lib/render/nginx.ts';
import { renderSquid } from '../../lib/render/squid.ts';
import { renderThumbnailer } from '../../lib/render/thumbnailer.ts';
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
  x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/\nimages:\n  transforms:\n(    .*\n)+/, '\n');
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

  it('at the shield: the image server caches derived paths per format and asks its own thumbnailer on a miss', () => {
    const conf = render(shipped, 'ams-cache1');
    expect(block(conf, 'location ^~ /_w/')).toBe(
      [
        'location ^~ /_w/ {',
        '\tlocation ~ ^/_w/[^/]*/_w/ {',
        '\t\treturn 400;',
        '\t}',
        '\tlocation ~ ^/_w/(64|128|256|512)/[^/] {',
        '\t\trewrite ^ $uri? break;',
        '\t\tproxy_cache_key $anycdn_format$uri;',
        '\t\tproxy_ignore_headers Set-Cookie Vary;',
        '\t\tproxy_cache_lock_timeout 48s;',
        '\t\tproxy_cache_lock_age 48s;',
        '\t\tproxy_read_timeout 48s;',
        '\t\tproxy_pass http://anycdn_thumbnailer;',
        '\t\tproxy_set_header Host img.cdn.example.net;',
        '\t\tproxy_set_header Connection "";',
        '\t\tproxy_set_header Cookie "";',
        '\t\tproxy_set_header Authorization "";',
        '\t\tproxy_set_header X-Anycdn-Format $anycdn_format;',
        '\t}',
        '\treturn 400;',
        '}',
      ].join('\n'),
    );
    expect(conf).not.toMatch(/@anycdn_thumbnail|image_filter|load_module/);
    expect(block(conf, 'upstream anycdn_thumbnailer')).toBe('upstream anycdn_thumbnailer {\n\tserver 127.0.0.1:8089;\n\tkeepalive 16;\n}');
    // haproxy leaves one of three Accept values; each is one format, so one cached copy per format
    expect(block(conf, 'map $http_accept $anycdn_format')).toBe('map $http_accept $anycdn_format {\n\tdefault "";\n\timage/avif avif;\n\timage/webp webp;\n}');
    // the thumbnailer reads the originals back through this image server, on loopback
    expect(conf.match(/^\t\tlisten .*$/gm)).toEqual(['\t\tlisten 127.0.0.1:80;', '\t\tlisten 198.51.100.21:80 default_server;', '\t\tlisten 198.51.100.21:80;', '\t\tlisten 127.0.0.1:8090;']);
  });

  it('away from the shield: derived misses go to the shield with the negotiated Accept, and are made here only while it fails', () => {
    const conf = render(shipped, 'sin-cache1');
    const derived = block(conf, 'location ~ ^/_w/(64|128|256|512)/[^/]');
    expect(derived).toContain('\tproxy_pass http://shield;\n');
    expect(derived).toContain('\tproxy_cache_key $anycdn_format$uri;\n');
    expect(derived).toContain('\tproxy_set_header Accept $anycdn_accept;\n');
    expect(derived).toContain('\terror_page 500 502 503 504 = @anycdn_thumbnail;\n');
    expect(block(conf, 'map $http_accept $anycdn_accept')).toBe('map $http_accept $anycdn_accept {\n\tdefault */*;\n\timage/avif image/avif;\n\timage/webp image/webp;\n}');
    expect(block(conf, 'location @anycdn_thumbnail').split('\n').slice(0, 3)).toEqual(['location @anycdn_thumbnail {', '\trewrite ^ $uri? break;', '\tproxy_cache_key $anycdn_format$uri;']);
  });

  it('without formats: no map, no format in the key, no Accept rewriting at haproxy', () => {
    const t = loadEdited((x) => {
      x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace('    formats: [avif, webp]\n', '');
    });
    const conf = render(t, 'sin-cache1');
    expect(conf).not.toMatch(/anycdn_format|anycdn_accept|map \$http_accept|Vary/);
    expect(render(t, 'ams-lb1')).not.toMatch(/accept/i);
  });

  it('Squid caches keep no derived image while formats are negotiated (the rock store keeps no Vary reply), and cache them without', () => {
    expect(render(shipped, 'nyc-cache1').split('\n').filter((l) => /derived/.test(l))).toEqual([
      'acl derived urlpath_regex ^/_w/',
      'cache_peer_access origin deny derived',
      'cache deny derived',
    ]);
    const plain = loadEdited((x) => {
      x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace('    formats: [avif, webp]\n', '');
    });
    expect(render(plain, 'nyc-cache1')).not.toMatch(/^cache deny/m);
  });

  it('the model quality and limits reach the thumbnailer config', () => {
    const t = loadEdited((x) => {
      x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace('    widths: [64, 128, 256, 512]\n', '    widths: [512, 96]\n    pathPrefix: /thumbs\n    jpegQuality: 70\n    webpQuality: 60\n    avifQuality: 45\n    avifEffort: 4\n    maxSourceMiB: 4\n    maxSourceMegapixels: 25\n    timeoutSec: 7\n    workers: 3\n');
    });
    const site = t.sites.find((s) => s.id === 'ams')!;
    const cfg = JSON.parse(renderThumbnailer(t, site, site.hosts.find((h) => h.name === 'ams-cache2')!).find((f) => f.path.endsWith('.json'))!.content) as Record<string, unknown>;
    expect({ ...cfg, '//': undefined }).toEqual({
      '//': undefined,
      listen: { address: '127.0.0.1', port: 8089 },
      originals: { address: '127.0.0.1', port: 8090, host: 'img.cdn.example.net', timeoutSec: 26 },
      pathPrefix: '/thumbs',
      widths: [96, 512],
      formats: ['avif', 'webp'],
      vary: true,
      quality: { jpeg: 70, webp: 60, avif: 45, avifEffort: 4 },
      maxSourceBytes: 4 * 2 ** 20,
      maxSourcePixels: 25_000_000,
      timeoutSec: 7,
      queueTimeoutSec: 7,
      workers: 3,
      maxConnections: 64,
    });
    expect(render(t, 'ams-cache2')).toMatch(/^\t\t\tlocation ~ \^\/thumbs\/\(96\|512\)\/\[\^\/\] \{$/m);
  });

  it('haproxy refuses everything else under the prefix, at every site, before any backend', () => {
    for (const host of ['ams-lb1', 'nyc-lb2', 'sin-lb1']) {
      const cfg = render(shipped, host);
      expect(cfg.split('\n').filter((l) => /derived/.test(l) && !/accept/i.test(l))).toEqual([
        '\t# derived images (images.transforms): only /_w/<width>/<path> with a listed width; the rest is refused here, before it costs CPU',
        '\tacl derived path_beg /_w/',
        '\tacl derived_ok path_reg ^/_w/(64|128|256|512)/[^/]',
        '\tacl derived_nested path_reg ^/_w/[^/]*/_w/',
        '\thttp-request return status 400 content-type text/plain string "derived images: /_w/<width>/<image path> with width one of 64, 128, 256, 512" if derived !derived_ok or derived_nested',
      ]);
    }
  });

  it('haproxy reduces Accept on derived paths to one value per format, at every site', () => {
    for (const host of ['ams-lb1', 'nyc-lb2', 'sin-lb1']) {
      const cfg = render(shipped, host);
      expect(cfg.split('\n').filter((l) => /accept/i.test(l))).toEqual([
        '\t# formats (images.transforms.formats): the first of avif, webp the client names in Accept, else the original\'s; the Accept left here is all every cache keys on',
        '\tacl accept_avif req.hdr(accept) -m reg -i "^image/avif\\\\s*(;(?!\\\\s*q\\\\s*=\\\\s*0(\\\\.0*)?\\\\s*(;|\\$))[^;]*)*\\$"',
        '\tacl accept_webp req.hdr(accept) -m reg -i "^image/webp\\\\s*(;(?!\\\\s*q\\\\s*=\\\\s*0(\\\\.0*)?\\\\s*(;|\\$))[^;]*)*\\$"',
        '\thttp-request set-header Accept image/avif if derived accept_avif',
        '\thttp-request set-header Accept image/webp if derived accept_webp',
        '\thttp-request set-header Accept "*/*" if derived !{ req.hdr(accept) -m str image/avif image/webp }',
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
      expect(render(t, host), host).not.toMatch(/_w|thumbnailer|anycdn_format|Accept|derived|8089|8090/);
    }
  });
});
