// `anycdn drain` / `anycdn undrain` without --apply: the commands it prints for each kind of
// target, the refusals the model makes, and the exit codes.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SITES_DIR } from '../helpers/topology.ts';
import { runCli } from '../helpers/cli.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const run = runCli;

/** A copy of the shipped sites with `edit` applied to one site file. */
function sitesWith(site: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'anycdn-drain-'));
  dirs.push(dir);
  cpSync(SITES_DIR, dir, { recursive: true });
  const f = join(dir, `${site}.yaml`);
  writeFileSync(f, edit(readFileSync(f, 'utf8')));
  return dir;
}

describe('drain prints the commands, and does nothing without --apply', () => {
  it('a cache: set server ... state drain on both lb hosts, then wait for its sessions to end', async () => {
    expect(await run(['drain', 'ams/ams-cache1', '--sites', SITES_DIR])).toEqual({
      code: 0,
      err: [],
      out: [
        "drain cache ams-cache1: it leaves haproxy's consistent hash on every lb host (state drain: weight 0), so only the URIs it held move; requests in flight on it finish",
        '  on ams-lb1:',
        "    echo 'set server caches/ams-cache1 state drain' | socat stdio /run/haproxy/admin.sock    # out of the hash",
        '  on ams-lb2:',
        "    echo 'set server caches/ams-cache1 state drain' | socat stdio /run/haproxy/admin.sock    # out of the hash",
        'then wait (at most 60 s) until:',
        '  ams-lb1: no session left on caches/ams-cache1 (show stat: scur 0)',
        '  ams-lb2: no session left on caches/ams-cache1 (show stat: scur 0)',
        'nothing done: run the commands above on each host, or `anycdn drain ams/ams-cache1 --apply` on each host (--lab: in the lab)',
      ],
    });
  });

  it('a site: the drain request on each dns host; the checkers do the rest, nyc answers meanwhile', async () => {
    expect(await run(['drain', 'ams', '--sites', SITES_DIR])).toEqual({
      code: 0,
      err: [],
      out: [
        "drain site ams: its DNS answers img.cdn.example.net with nyc's VIP 198.51.100.74, its anycast routes carry the graceful-shutdown community (65535:0),",
        'and 60 s later (drain.withdrawAfterSec) they are withdrawn; upstreams move traffic to the next site first',
        '  on ams-lb1:',
        "    echo 'site' > /run/anycdn/drain    # the health checker drains the site",
        '  on ams-lb2:',
        "    echo 'site' > /run/anycdn/drain    # the health checker drains the site",
        'then wait (at most 90 s) until:',
        '  ams-lb1: the health checker says drained (cat /run/anycdn/healthcheck.state)',
        '  ams-lb2: the health checker says drained (cat /run/anycdn/healthcheck.state)',
        'nothing done: run the commands above on each host, or `anycdn drain ams --apply` on each host (--lab: in the lab)',
      ],
    });
  });

  it('an lb + dns host: new connections wait, new requests are refused, the responses under way finish, then keepalived gives up the VIP; the host drains its announcement', async () => {
    const r = await run(['drain', 'nyc/nyc-lb1', '--sites', SITES_DIR]);
    expect(r.code).toBe(0);
    const nft = [
      'add table inet anycdn_lb_drain',
      'delete table inet anycdn_lb_drain',
      'add table inet anycdn_lb_drain',
      'add chain inet anycdn_lb_drain input { type filter hook input priority filter - 10; policy accept; }',
      'add rule inet anycdn_lb_drain input ip daddr 198.51.100.74 tcp dport 80 tcp flags & (syn | ack) == syn drop',
      'add rule inet anycdn_lb_drain input ip6 daddr 2001:db8:b::74 tcp dport 80 tcp flags & (syn | ack) == syn drop',
    ].join('; ');
    expect(r.out).toEqual([
      'drain lb nyc-lb1: new connections to the VIP 198.51.100.74 wait and new requests are refused before any byte (clients retry both), the responses under way finish, then keepalived goes to FAULT (drain track file), sends a priority-0 advert, and nyc-lb2 takes the VIP at once',
      'drain dns nyc-lb1: its anycast routes carry the graceful-shutdown community, and 60 s later it withdraws them; nyc-lb2 keeps announcing nyc',
      '  on nyc-lb1:',
      `    nft '${nft}'    # new connections to the VIP wait: their SYNs are dropped, the client sends them again 1 s later`,
      "    echo 'add map /etc/haproxy/anycdn-drain.map lb-drain 1' | socat stdio /run/haproxy/admin.sock    # a new request is refused before any byte: clients retry it on a new connection",
      `    timeout 2 sh -c 'until [ "$(echo "show sess" | socat stdio /run/haproxy/admin.sock | grep -c " fe=images ")" -eq 0 ]; do sleep 0.05; done' || true    # the responses under way finish (at most 2 s)`,
      "    echo '1' > /run/anycdn/vrrp-drain    # keepalived gives up the VIP",
      "    echo 'host' > /run/anycdn/drain    # the health checker drains this host",
      'then wait (at most 90 s) until:',
      '  nyc-lb1: the VIP 198.51.100.74 is gone from its interfaces',
      "  nyc-lb1: no request in flight on haproxy's frontend images (show sess)",
      '  nyc-lb1: the health checker says drained (cat /run/anycdn/healthcheck.state)',
      'nothing done: run the commands above on each host, or `anycdn drain nyc/nyc-lb1 --apply` on each host (--lab: in the lab)',
    ]);
  });

  it('--role lb: only the lb part of an lb + dns host (the VIP moves, its announcements stay), as a model drain applies it', async () => {
    const r = await run(['drain', 'nyc/nyc-lb1', '--role', 'lb', '--sites', SITES_DIR]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^drain lb nyc-lb1: /);
    expect(r.out.filter((l) => /drain dns|\/run\/anycdn\/drain|health checker/.test(l))).toEqual([]);
    expect(r.out.filter((l) => l.startsWith('    ')).map((l) => l.trim().split(' ')[0])).toEqual(['nft', 'echo', 'timeout', 'echo']);
    expect(r.out.at(-1)).toBe('nothing done: run the commands above on each host, or `anycdn drain nyc/nyc-lb1 --role lb --apply` on each host (--lab: in the lab)');
  });

  it('undrain reverses each step', async () => {
    expect((await run(['undrain', 'ams/ams-cache1', '--sites', SITES_DIR])).out.slice(0, 5)).toEqual([
      "undrain cache ams-cache1: it takes its place in haproxy's consistent hash again, and its URIs return to it",
      '  on ams-lb1:',
      "    echo 'set server caches/ams-cache1 state ready' | socat stdio /run/haproxy/admin.sock    # back in the hash",
      '  on ams-lb2:',
      "    echo 'set server caches/ams-cache1 state ready' | socat stdio /run/haproxy/admin.sock    # back in the hash",
    ]);
    expect((await run(['undrain', 'ams', '--sites', SITES_DIR])).out.slice(0, 5)).toEqual([
      'undrain site ams: its DNS answers with its own VIP again (the rendered zone) and its dns hosts announce again as their health checks say',
      '  on ams-lb1:',
      '    rm -f /run/anycdn/drain    # the health checker ends the drain',
      '  on ams-lb2:',
      '    rm -f /run/anycdn/drain    # the health checker ends the drain',
    ]);
    expect((await run(['undrain', 'nyc/nyc-lb2', '--sites', SITES_DIR])).out.slice(0, 7)).toEqual([
      'undrain lb nyc-lb2: keepalived leaves FAULT and is a backup again',
      'undrain dns nyc-lb2: it announces again as its health checks say',
      '  on nyc-lb2:',
      "    nft 'add table inet anycdn_lb_drain; delete table inet anycdn_lb_drain'    # new connections to the VIP are accepted again",
      "    echo 'clear map /etc/haproxy/anycdn-drain.map' | socat stdio /run/haproxy/admin.sock    # requests are served again",
      "    echo '0' > /run/anycdn/vrrp-drain    # keepalived may hold the VIP again",
      '    rm -f /run/anycdn/drain    # the health checker ends the drain',
    ]);
  });
});

describe('refusals: one line, and the exit code of the contract', () => {
  it.each<[what: string, args: () => string[], code: number, line: string]>([
    ['an unknown site (usage)', () => ['drain', 'lon', '--sites', SITES_DIR], 2, 'drain: no site lon; the sites are ams, nyc, sin'],
    ['an unknown host (usage)', () => ['drain', 'ams/nyc-lb1', '--sites', SITES_DIR], 2, 'drain: site ams has no host nyc-lb1; its hosts are ams-cache1, ams-cache2, ams-lb1, ams-lb2'],
    ['not a target (usage)', () => ['undrain', 'ams/', '--sites', SITES_DIR], 2, 'undrain: "ams/" is not <site> or <site>/<host>, such as ams or ams/ams-cache1'],
    ['a bad --timeout (usage)', () => ['drain', 'ams', '--timeout', 'soon', '--sites', SITES_DIR], 2, 'drain: --timeout must be seconds in 0..3600, got "soon"'],
    ['an unknown --role (usage)', () => ['drain', 'ams/ams-lb1', '--role', 'web', '--sites', SITES_DIR], 2, 'drain: --role must be one of lb, dns, cache, got "web"'],
    ['a --role the host does not have (usage)', () => ['drain', 'ams/ams-cache1', '--role', 'lb', '--sites', SITES_DIR], 2, 'drain: ams-cache1 has no lb role; its roles are cache'],
    ['a --role on a site (usage)', () => ['undrain', 'ams', '--role', 'dns', '--sites', SITES_DIR], 2, 'undrain: --role dns takes a host, <site>/<host>; a site drains all of its dns hosts'],
    [
      'the last serving cache',
      () => ['drain', 'ams/ams-cache1', '--sites', sitesWith('ams', (s) => s.replace('address: 198.51.100.22', 'address: 198.51.100.22\n    state: drained'))],
      1,
      'drain: ams-cache1 is the last cache of ams that serves; keep at least one cache serving',
    ],
    [
      'the second lb host of a pair',
      () => ['drain', 'ams/ams-lb1', '--sites', sitesWith('ams', (s) => s.replace('address6: 2001:db8:a::12', 'address6: 2001:db8:a::12\n    state: drained'))],
      1,
      "drain: ams-lb1's peer ams-lb2 is drained in the model; never drain both lb hosts of a pair",
    ],
    [
      'a site with no fallback among three',
      () => ['drain', 'nyc', '--sites', sitesWith('nyc', (s) => s.replace('drain:\n  fallbackSite: ams\n', ''))],
      1,
      'drain: site nyc has no fallback for its DNS answers; set drain.fallbackSite in sites/nyc.yaml to the nearest other site',
    ],
    [
      'undrain of a host the model drains',
      () => ['undrain', 'ams/ams-cache2', '--sites', sitesWith('ams', (s) => s.replace('address: 198.51.100.22', 'address: 198.51.100.22\n    state: drained'))],
      1,
      'undrain: ams-cache2 is drained in the model (state: drained); set state: active in sites/ams.yaml, render and apply',
    ],
  ])('%s', async (_what, args, code, line) => {
    const r = await run(args());
    expect([r.code, r.err, r.out]).toEqual([code, [line], []]);
  });

  it('--apply on a machine that is none of the target\'s hosts applies nothing and says where to run it', async () => {
    const r = await run(['drain', 'ams/ams-cache1', '--apply', '--sites', SITES_DIR]);
    expect(r.code).toBe(1);
    expect(r.out.slice(-1)).toEqual(['not applied on ' + (await import('node:os')).hostname() + ': run `anycdn drain ams/ams-cache1 --apply` on ams-lb1, ams-lb2 too']);
    expect(r.err).toEqual(["drain: none of ams/ams-cache1's steps are for this host; run it on ams-lb1, ams-lb2"]);
  });
});
