// Squid on cache hosts, on edited copies of the shipped sites. Whole stanzas, not `contains`.
import { describe, expect, it } from 'vitest';
import type { Topology } from '../../lib/model/schema.ts';
import { renderSquid } from '../../lib/render/squid.ts';
import { quote as birdQuote } from '../../lib/render/syntax/bird.ts';
import { comment, directive, emitSquid, word } from '../../lib/render/syntax/squid.ts';
import { dialectConformance } from '../helpers/dialect.ts';
import { loadEdited } from '../helpers/topology.ts';

function squidFiles(t: Topology, hostName: string) {
  for (const site of t.sites) {
    const host = site.hosts.find((h) => h.name === hostName);
    if (host) return renderSquid(t, site, host);
  }
  throw new Error(`no host ${hostName}`);
}

/** Directive lines whose first word is one of `names`, in file order. */
function directives(content: string, ...names: string[]): string[] {
  return content.split('\n').filter((l) => names.includes(l.split(' ')[0]!));
}

const shieldAt = (id: string | undefined) => (x: Record<string, string>) => {
  x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/\nshield: ams\n/, id ? `\nshield: ${id}\n` : '\n');
  // A Squid shield (or no shield, with Squid-only nyc) cannot make derived images: the model refuses transforms then.
  x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/\nimages:\n  transforms:\n(    .*\n)+/, '\n');
};

describe('squid cache', () => {
  const shipped = loadEdited();

  it('renders nothing for nginx caches', () => {
    expect(squidFiles(shipped, 'ams-cache1')).toEqual([]);
  });

  it('is an accelerator for the image host only, never a forward proxy', () => {
    const conf = squidFiles(shipped, 'nyc-cache1')[0]!.content;
    expect(directives(conf, 'http_port', 'acl', 'http_access', 'never_direct', 'icp_access', 'htcp_access', 'icp_port', 'htcp_port')).toEqual([
      'http_port 198.51.100.85:80 accel defaultsite=img.cdn.example.net no-vhost',
      // monitoring: the cache manager on loopback for prometheus-squid-exporter, and nothing else there
      'http_port 127.0.0.1:3128 accel defaultsite=img.cdn.example.net no-vhost',
      'acl manager_port localport 3128',
      'icp_port 0',
      'htcp_port 0',
      'acl image_host dstdomain img.cdn.example.net',
      'acl read_methods method GET HEAD',
      'acl CONNECT method CONNECT',
      'acl cache_health urlpath_regex ^/squid-internal-static/icons/SN[.]png$',
      'acl lb_hosts src 198.51.100.75 198.51.100.76 198.51.100.74',
      'http_access deny CONNECT',
      'http_access deny !read_methods',
      'http_access deny manager_port !manager',
      'http_access allow localhost manager',
      'http_access deny manager',
      'http_access allow cache_health',
      'http_access allow image_host',
      'http_access deny all',
      'icp_access deny all',
      'htcp_access deny all',
      'never_direct allow all',
      // images.transforms: derived paths, which only the shield has
      'acl derived urlpath_regex ^/_w/',
      'acl from_cache hier_code HIER_NONE',
      'acl kept_status http_status 200 301 404',
      'acl cache_hit all-of from_cache kept_status',
    ]);
  });

  it('away from the shield: the shield VIP first, then the S3 origin over TLS with its own Host', () => {
    const conf = squidFiles(shipped, 'nyc-cache1')[0]!.content;
    expect(directives(conf, 'cache_peer', 'cache_peer_access', 'retry_on_error')).toEqual([
      'cache_peer 198.51.100.10 parent 80 0 no-query no-digest originserver name=shield connect-timeout=2 connect-fail-limit=2',
      'cache_peer anycdn-example-images.s3.eu-west-1.amazonaws.com parent 443 0 no-query no-digest originserver name=origin connect-timeout=2 forceddomain=anycdn-example-images.s3.eu-west-1.amazonaws.com tls',
      'cache_peer_access origin deny derived',
      'cache_peer_access shield allow image_host',
      'cache_peer_access shield deny all',
      'cache_peer_access origin allow image_host',
      'cache_peer_access origin deny all',
      'retry_on_error on',
    ]);
  });

  it('at the shield site: only the origin; an http origin keeps its port in Host and has no TLS', () => {
    const t = loadEdited((x) => {
      shieldAt('nyc')(x);
      x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/origin:\n  s3:\n    bucket: .*\n    region: .*\n/, 'origin:\n  http:\n    url: http://origin.example.net:8080\n');
    });
    const conf = squidFiles(t, 'nyc-cache1')[0]!.content;
    expect(directives(conf, 'cache_peer', 'cache_peer_access', 'retry_on_error', 'reply_header_access')).toEqual([
      'cache_peer origin.example.net parent 8080 0 no-query no-digest originserver name=origin connect-timeout=2 forceddomain=origin.example.net:8080',
      'cache_peer_access origin allow image_host',
      'cache_peer_access origin deny all',
      'reply_header_access Set-Cookie deny all',
      'reply_header_access Server deny all',
      'reply_header_access Via deny all',
      'reply_header_access X-Cache deny all',
      'reply_header_access X-Cache-Lookup deny all',
      'reply_header_access X-Cache-Status deny all',
      'reply_header_access X-Served-By deny all',
    ]);
  });

  it('response headers as nginx: X-Cache-Status and X-Served-By only, no cache header of Squid or a shield', () => {
    const conf = squidFiles(shipped, 'nyc-cache2')[0]!.content;
    expect(directives(conf, 'reply_header_access', 'reply_header_add')).toEqual([
      'reply_header_access Set-Cookie deny all',
      'reply_header_access Server deny all',
      'reply_header_access Via deny all',
      'reply_header_access X-Cache deny all',
      'reply_header_access X-Cache-Lookup deny all',
      'reply_header_access X-Cache-Status deny all',
      'reply_header_access X-Served-By deny all',
      'reply_header_access X-Amz-Id-2 deny all',
      'reply_header_access X-Amz-Request-Id deny all',
      'reply_header_access X-Amz-Server-Side-Encryption deny all',
      'reply_header_access X-Amz-Version-Id deny all',
      'reply_header_access X-Amz-Replication-Status deny all',
      'reply_header_access X-Amz-Storage-Class deny all',
      'reply_header_add X-Cache-Status HIT cache_hit',
      'reply_header_add X-Cache-Status MISS !cache_hit',
      'reply_header_add X-Served-By nyc-cache2',
    ]);
  });

  describe('keeps exactly the statuses in cache.validSec', () => {
    const valid = (v: string) =>
      loadEdited((x) => {
        x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/\n  validSec: .*\n/, `\n  validSec: ${v}\n`);
      });
    const stanza = (t: Topology) => directives(squidFiles(t, 'nyc-cache1')[0]!.content, 'acl', 'store_miss', 'negative_ttl').filter((l) => !/ (image_host|read_methods|CONNECT|cache_health|lb_hosts|manager_port|derived) /.test(l));

    it('the shipped 200, 301 and 404: no 5xx is stored, and a 404 stays its 60 s', () => {
      expect(stanza(shipped)).toEqual([
        'acl from_cache hier_code HIER_NONE',
        'acl kept_status http_status 200 301 404',
        'acl cache_hit all-of from_cache kept_status',
        'store_miss deny !kept_status',
        'negative_ttl 60 seconds',
      ]);
    });

    it('no error listed: negative_ttl 0, so nothing is kept as a failure', () => {
      expect(stanza(valid('{ "200": 600 }'))).toEqual([
        'acl from_cache hier_code HIER_NONE',
        'acl kept_status http_status 200',
        'acl cache_hit all-of from_cache kept_status',
        'store_miss deny !kept_status',
        'negative_ttl 0 seconds',
      ]);
    });

    it('a listed 503 is stored; one negative_ttl serves every error, the shortest listed', () => {
      expect(stanza(valid('{ "200": 600, "404": 120, "503": 5 }'))).toEqual([
        'acl from_cache hier_code HIER_NONE',
        'acl kept_status http_status 200 404 503',
        'acl cache_hit all-of from_cache kept_status',
        'store_miss deny !kept_status',
        'negative_ttl 5 seconds',
      ]);
    });

    it('any keeps every status: no store_miss rule, and its TTL counts for the errors', () => {
      expect(stanza(valid('{ "200": 600, "404": 30, "any": 10 }'))).toEqual(['acl from_cache hier_code HIER_NONE', 'acl cache_hit all-of from_cache', 'negative_ttl 10 seconds']);
    });
  });

  it('sizes the cache from the model (rock and aufs)', () => {
    const sized = (squid: string) =>
      loadEdited((x) => {
        x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/\ncache:\n  keyIncludesQuery: false\n  validSec: .*\n/, `\ncache:\n  squid: ${squid}\n`);
      });
    const rock = squidFiles(sized('{ cacheMemMiB: 256, storeType: rock, cacheDirMiB: 2048, maximumObjectSizeMiB: 8, path: /srv/squid }'), 'nyc-cache1')[0]!.content;
    expect(directives(rock, 'cache_mem', 'maximum_object_size_in_memory', 'maximum_object_size', 'cache_dir', 'collapsed_forwarding', 'negative_ttl', 'refresh_pattern')).toEqual([
      'cache_mem 256 MB',
      'maximum_object_size_in_memory 1 MB',
      'maximum_object_size 8 MB',
      'cache_dir rock /srv/squid 2048',
      'collapsed_forwarding on',
      'negative_ttl 60 seconds',
      'refresh_pattern -i [.](avif|gif|ico|jpe?g|png|svg|webp)([?].*)?$ 1440 100% 1440',
      'refresh_pattern . 0 20% 4320',
    ]);
    const aufs = squidFiles(sized('{ storeType: aufs, cacheDirMiB: 4096 }'), 'nyc-cache1')[0]!.content;
    expect(directives(aufs, 'cache_dir')).toEqual(['cache_dir aufs /var/spool/squid/anycdn 4096 16 256']);
  });

  it('operations: explicit pid and log paths, short shutdown, no pinger', () => {
    const conf = squidFiles(shipped, 'nyc-cache2')[0]!.content;
    expect(conf.slice(conf.indexOf('cache_effective_user'))).toBe(
      [
        'cache_effective_user proxy',
        'pid_filename /run/squid.pid',
        'access_log stdio:/var/log/squid/access.log squid',
        'cache_log /var/log/squid/cache.log',
        'cache_store_log none',
        'coredump_dir /var/spool/squid',
        'client_db off',
        'shutdown_lifetime 1 seconds',
        'pinger_enable off',
        '',
      ].join('\n'),
    );
    expect(directives(conf, 'visible_hostname')).toEqual(['visible_hostname nyc-cache2']);
    expect(directives(conf, 'reply_header_add')).toEqual(['reply_header_add X-Cache-Status HIT cache_hit', 'reply_header_add X-Cache-Status MISS !cache_hit', 'reply_header_add X-Served-By nyc-cache2']);
  });

  it('cuts the query with a helper unless the model keeps it in the key', () => {
    const files = squidFiles(shipped, 'nyc-cache1');
    expect(files.map((f) => [f.path, f.mode, f.check])).toEqual([
      ['/etc/squid/squid.conf', 0o644, 'squid'],
      ['/usr/local/sbin/anycdn-squid-strip-query', 0o755, 'shell'],
    ]);
    expect(directives(files[0]!.content, 'url_rewrite_program', 'url_rewrite_children', 'url_rewrite_access')).toEqual([
      'url_rewrite_program /usr/local/sbin/anycdn-squid-strip-query',
      'url_rewrite_children 8 startup=2 idle=1',
      'url_rewrite_access allow image_host',
      'url_rewrite_access deny all',
    ]);
    const keep = loadEdited((x) => {
      x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace('keyIncludesQuery: false', 'keyIncludesQuery: true');
    });
    const kept = squidFiles(keep, 'nyc-cache1');
    expect(kept.map((f) => f.path)).toEqual(['/etc/squid/squid.conf']);
    expect(kept[0]!.content).not.toMatch(/url_rewrite/);
  });
});

describe('squid word', () => {
  it.each(['img.cdn.example.net', '^/a[.]png$', 'defaultsite=x', 0])('passes %j', (w) => expect(word(w)).toBe(String(w)));
});

// Squid has no general quoting: its one value function, word(), passes one plain word through
// unchanged or refuses it.
dialectConformance({
  name: 'squid',
  quote: (v) => word(v),
  cannotCarry: (v) => v === '' || /[\s"'#\\\x00-\x1f\x7f]/.test(v),
  readBack: (w) => (/^[^\s"'#\\]+$/.test(w) ? w : undefined),
  emitQuoted: (v) => emitSquid([directive('visible_hostname', v)]),
  hostile: [
    ['two words', () => directive('acl', 'a b')],
    ['a comment', () => directive('visible_hostname', 'a#b')],
    ['a quoted word of another dialect', () => directive('visible_hostname', `${birdQuote('a')}`)],
    ['an empty word', () => directive('visible_hostname', '')],
    ['a comment with a newline', () => emitSquid([comment('a\nb')])],
  ],
});
