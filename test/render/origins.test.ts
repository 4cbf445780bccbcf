// Origins in priority order (issue 17): a model with an S3 bucket, its replica in another region
// and an HTTP origin. nginx chains one location per origin, each with its own Host and TLS name;
// Squid lists one parent per origin after the shield; both pass their real checkers. Whole
// stanzas, on the shipped sites with the origin edited.
import { describe, expect, it } from 'vitest';
import { checkHosts } from '../../lib/check/run.ts';
import { renderPlans } from '../../lib/render/index.ts';
import { renderNginx } from '../../lib/render/nginx.ts';
import { renderSquid } from '../../lib/render/squid.ts';
import type { Topology } from '../../lib/model/schema.ts';
import { missingBinary, missingRoot } from '../helpers/daemons.ts';
import { loadEdited } from '../helpers/topology.ts';

const ORIGINS = [
  '  - s3: { bucket: anycdn-example-images, region: eu-west-1 }',
  '  - s3: { bucket: anycdn-example-images-replica, region: eu-central-1 }',
  '  - http: { url: "http://images.example.org:8080" }',
];
const withOrigins = (lines: string[]) => (x: Record<string, string>) => {
  const edited = x['sites/cdn.yaml']!.replace(/origin:\n  s3:\n    bucket: .*\n    region: .*\n/, `origin:\n${lines.join('\n')}\n`);
  if (edited === x['sites/cdn.yaml']) throw new Error('the shipped origin changed shape');
  x['sites/cdn.yaml'] = edited;
};
const t = loadEdited(withOrigins(ORIGINS));

function conf(t: Topology, hostName: string): string {
  for (const site of t.sites) {
    const host = site.hosts.find((h) => h.name === hostName);
    if (host) return [...renderNginx(t, site, host), ...renderSquid(t, site, host)].find((f) => /\.conf$/.test(f.path))!.content;
  }
  throw new Error(`no host ${hostName}`);
}
/** Lines from the first (or last) one equal to `from` (trimmed) through the first equal to `to` after it. */
function between(text: string, from: string, to: string, last = false): string {
  const lines = text.split('\n');
  const a = last ? lines.map((l) => l.trim()).lastIndexOf(from) : lines.findIndex((l) => l.trim() === from);
  const b = lines.findIndex((l, i) => i > a && l.trim() === to);
  if (a < 0 || b < 0) throw new Error(`no ${from} ... ${to}`);
  return lines.slice(a, b + 1).map((l) => l.replace(/^\t\t/, '')).join('\n');
}

const TLS = (host: string) => [
  '\tproxy_ssl_server_name on;',
  `\tproxy_ssl_name ${host};`,
  '\tproxy_ssl_protocols TLSv1.2 TLSv1.3;',
  '\tproxy_ssl_verify on;',
  '\tproxy_ssl_verify_depth 4;',
  '\tproxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;',
  '\tproxy_ssl_session_reuse on;',
];
const HEADERS = (host: string) => [`\tproxy_set_header Host ${host};`, '\tproxy_set_header Connection "";', '\tproxy_set_header Cookie "";', '\tproxy_set_header Authorization "";'];
const S3A = 'anycdn-example-images.s3.eu-west-1.amazonaws.com';
const S3B = 'anycdn-example-images-replica.s3.eu-central-1.amazonaws.com';
const ORIGIN_LOCATIONS = [
  'location @origin {',
  '\tproxy_pass https://origin;',
  ...HEADERS(S3A),
  ...TLS(S3A),
  '\tproxy_next_upstream_tries 2;',
  '\tproxy_intercept_errors on;',
  '\terror_page 500 502 503 504 = @origin2;',
  '}',
  '',
  'location @origin2 {',
  '\tproxy_pass https://origin2;',
  ...HEADERS(S3B),
  ...TLS(S3B),
  '\tproxy_next_upstream_tries 2;',
  '\tproxy_intercept_errors on;',
  '\terror_page 500 502 503 504 = @origin3;',
  '}',
  '',
  'location @origin3 {',
  '\tproxy_pass http://origin3;',
  ...HEADERS('images.example.org:8080'),
  '}',
];

describe('origins in priority order', () => {
  it('nginx behind the shield: the shield, then each origin with its own Host and TLS name', () => {
    expect(between(conf(t, 'sin-cache1'), '# Each origin below is tried when the one above fails.', '}').split('\n')).toEqual([
      '# Each origin below is tried when the one above fails.',
      'recursive_error_pages on;',
      '',
      'location / {',
      '\trewrite ^ $uri? break;',
      '\tproxy_pass http://shield;',
      ...HEADERS('img.cdn.example.net'),
      '\tproxy_intercept_errors on;',
      '\terror_page 500 502 503 504 = @origin;',
      '}',
    ]);
    expect(between(conf(t, 'sin-cache1'), 'location @origin {', 'location @origin3 {').split('\n').concat(between(conf(t, 'sin-cache1'), 'location @origin3 {', '}').split('\n').slice(1))).toEqual(ORIGIN_LOCATIONS);
  });

  it('nginx at the shield: location / is the first origin, and the others follow', () => {
    const ams = conf(t, 'ams-cache1');
    expect(ams).not.toContain('upstream shield');
    expect(between(ams, 'location / {', '}', true).split('\n')).toEqual(['location / {', '\trewrite ^ $uri? break;', ...ORIGIN_LOCATIONS.slice(1, ORIGIN_LOCATIONS.indexOf('}'))].concat('}'));
    expect(between(ams, 'upstream origin2 {', '}').split('\n').map((l) => l.trim())).toEqual(['upstream origin2 {', `server ${S3B}:443;`, 'keepalive 32;', 'keepalive_requests 1000;', 'keepalive_timeout 60s;', '}']);
    expect(between(ams, 'upstream origin3 {', '}').split('\n').map((l) => l.trim())).toEqual(['upstream origin3 {', 'server images.example.org:8080;', 'keepalive 32;', 'keepalive_requests 1000;', 'keepalive_timeout 60s;', '}']);
  });

  it('Squid: one parent per origin after the shield, each with its own Host; 5xx moves on', () => {
    expect(between(conf(t, 'nyc-cache1'), 'never_direct allow all', 'read_timeout 10 seconds').split('\n')).toEqual([
      'never_direct allow all',
      "# Origin shield: site ams's image VIP first; the origins when the shield fails.",
      'cache_peer 198.51.100.10 parent 80 0 no-query no-digest originserver name=shield connect-timeout=2 connect-fail-limit=2',
      '# The origins in priority order: each is tried when the ones above fail.',
      `cache_peer ${S3A} parent 443 0 no-query no-digest originserver name=origin connect-timeout=2 connect-fail-limit=2 forceddomain=${S3A} tls`,
      `cache_peer ${S3B} parent 443 0 no-query no-digest originserver name=origin2 connect-timeout=2 connect-fail-limit=2 forceddomain=${S3B} tls`,
      'cache_peer images.example.org parent 8080 0 no-query no-digest originserver name=origin3 connect-timeout=2 forceddomain=images.example.org:8080',
      // Derived images: from the shield only, never from any origin (lib/render/squid-transforms.ts).
      '# Derived images (/_w/<width>/...) come from the shield only: the origin has none.',
      'acl derived urlpath_regex ^/_w/',
      ...['origin', 'origin2', 'origin3'].map((p) => `cache_peer_access ${p} deny derived`),
      '# negotiated formats (Vary: Accept), which the rock store does not keep: each from the shield, which caches one copy per format',
      'cache deny derived',
      ...['shield', 'origin', 'origin2', 'origin3'].flatMap((p) => [`cache_peer_access ${p} allow image_host`, `cache_peer_access ${p} deny all`]),
      'retry_on_error on',
      'forward_max_tries 12',
      'peer_connect_timeout 2 seconds',
      'read_timeout 10 seconds',
    ]);
  });

  it('a one-entry list renders exactly as the single form', () => {
    const single = loadEdited();
    const list = loadEdited(withOrigins([ORIGINS[0]!]));
    for (const host of ['ams-cache1', 'sin-cache1', 'nyc-cache1']) expect(conf(list, host), host).toBe(conf(single, host));
  });

  it('every cache config passes nginx -t and squid -k parse, with each origin hostname resolved in the view', async (ctx) => {
    const skip = missingBinary('/usr/sbin/nginx', 'nginx') ?? missingBinary('/usr/sbin/squid', 'squid') ?? missingRoot();
    if (skip) return ctx.skip(skip);
    const plans = renderPlans(t).filter((p) => ['ams-cache1', 'sin-cache1', 'nyc-cache1'].includes(p.host));
    expect(plans.find((p) => p.host === 'sin-cache1')!.needs.hostNames).toEqual([S3B, S3A, 'images.example.org']);
    const report = await checkHosts(plans, { only: ['nginx', 'squid'] });
    expect(report.diagnostics).toEqual([]);
    expect(report.checked.map((c) => `${c.file.host}:${c.checker}:${c.ok}`).sort()).toEqual(['ams-cache1:nginx:true', 'nyc-cache1:squid:true', 'sin-cache1:nginx:true']);
  }, 60_000);
});
