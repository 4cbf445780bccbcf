// Classification reads the statements that changed, not the file name: the same file gets a
// different class depending on what changed in it. Whole files, as the renderers write them.
import { describe, expect, it } from 'vitest';
import { classifyBird, classifyHaproxy, classifyHealthcheckConf, classifyKeepalived, classifyKnotConf, classifyNginx, classifySquid } from '../../lib/plan/classify.ts';
import { ownerOf } from '../../lib/plan/owners.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { renderPlans } from '../../lib/render/index.ts';
import { load, shipped } from '../model/fixtures.ts';

const bird = (peerAs: number, exportFilter: string, routerId = '198.51.100.11') => `router id ${routerId};
filter export_anycast4 {
	if net ~ [ 192.0.2.53/32 ] then accept;
	reject;
}
filter export_other {
	reject;
}
protocol bgp bgp_transit1 {
	description "transit1";
	local 198.51.100.11 as 65010;
	neighbor 198.51.100.1 as ${peerAs};
	ipv4 {
		import none;
		export filter ${exportFilter};
	};
}
`;

describe('bird', () => {
  it('a new peer ASN resets that session', () => {
    expect(classifyBird(bird(64501, 'export_anycast4'), bird(64502, 'export_anycast4'))).toEqual([
      { class: 'bird-session-reset', reason: '- neighbor 198.51.100.1 as 64501 (in protocol bgp bgp_transit1)' },
      { class: 'bird-session-reset', reason: '+ neighbor 198.51.100.1 as 64502 (in protocol bgp bgp_transit1)' },
    ]);
  });
  it('another export filter on a channel is a configure that keeps the session', () => {
    expect(classifyBird(bird(64501, 'export_anycast4'), bird(64501, 'export_other')).map((i) => i.class)).toEqual(['bird-configure', 'bird-configure']);
  });
  it('a changed filter body is a configure', () => {
    expect(classifyBird(bird(64501, 'export_anycast4'), bird(64501, 'export_anycast4').replace('53/32', '54/32')).map((i) => i.class)).toEqual(['bird-configure', 'bird-configure']);
  });
  it('a new router id restarts every session', () => {
    expect(classifyBird(bird(64501, 'export_anycast4'), bird(64501, 'export_anycast4', '198.51.100.12')).map((i) => i.class)).toEqual(['bird-session-reset', 'bird-session-reset']);
  });
  it('a new protocol starts a session and resets none', () => {
    const more = `${bird(64501, 'export_anycast4')}protocol bgp bgp_transit2 {\n\tneighbor 198.51.100.2 as 64503;\n}\n`;
    expect(classifyBird(bird(64501, 'export_anycast4'), more)).toEqual([{ class: 'bird-configure', reason: 'BGP session bgp_transit2 starts' }]);
  });
});

const keepalived = (advert: string, priority: number, vip: string) => `global_defs {
	router_id ams-lb1
	vrrp_version 3
}
vrrp_instance vip_ams {
	state BACKUP
	interface eth0
	virtual_router_id 10
	priority ${priority}
	advert_int ${advert}
	virtual_ipaddress {
		${vip} dev eth0
	}
}
`;

describe('keepalived', () => {
  it('advert_int: a reload that keeps the state; priority or the VIP: the VIP may move', () => {
    const base = keepalived('0.1', 150, '198.51.100.10/32');
    expect(classifyKeepalived(base, keepalived('0.2', 150, '198.51.100.10/32')).map((i) => i.class)).toEqual(['keepalived-reload', 'keepalived-reload']);
    expect(classifyKeepalived(base, keepalived('0.1', 90, '198.51.100.10/32')).map((i) => i.class)).toEqual(['keepalived-vip-move', 'keepalived-vip-move']);
    expect(classifyKeepalived(base, keepalived('0.1', 150, '198.51.100.9/32')).map((i) => i.class)).toEqual(['keepalived-vip-move', 'keepalived-vip-move']);
  });
});

describe('nginx, squid, knot', () => {
  it('nginx: a new cache path, levels or zone restarts with an empty cache; max_size alone, or anything else, reloads and keeps the cache', () => {
    const conf = (size: string, timeout: string, zone = 'anycdn:64m', levels = '1:2', path = '/var/cache/nginx/anycdn') =>
      `http {\n\tproxy_cache_path ${path} levels=${levels} keys_zone=${zone} max_size=${size};\n\tserver {\n\t\tproxy_read_timeout ${timeout};\n\t}\n}\n`;
    expect(classifyNginx(conf('50g', '10s'), conf('80g', '10s'))).toEqual([
      { class: 'nginx-reload', reason: '- proxy_cache_path /var/cache/nginx/anycdn levels=1:2 keys_zone=anycdn:64m max_size=50g (in http): the cache is kept (same zone, path and levels)' },
      { class: 'nginx-reload', reason: '+ proxy_cache_path /var/cache/nginx/anycdn levels=1:2 keys_zone=anycdn:64m max_size=80g (in http): the cache is kept (same zone, path and levels)' },
    ]);
    for (const other of [conf('50g', '10s', 'anycdn:128m'), conf('50g', '10s', 'anycdn:64m', '2'), conf('50g', '10s', 'anycdn:64m', '1:2', '/srv/cache')]) {
      expect(classifyNginx(conf('50g', '10s'), other).map((i) => i.class)).toEqual(['nginx-restart-cache-loss', 'nginx-restart-cache-loss']);
    }
    expect(classifyNginx(conf('50g', '10s'), conf('50g', '20s'))).toEqual([
      { class: 'nginx-reload', reason: '- proxy_read_timeout 10s (in http > server)' },
      { class: 'nginx-reload', reason: '+ proxy_read_timeout 20s (in http > server)' },
    ]);
  });
  it('squid: cache_dir is a restart and rebuild, cache_mem a reconfigure', () => {
    const conf = (dir: string, mem: string) => `cache_mem ${mem} MB\ncache_dir ${dir}\n`;
    expect(classifySquid(conf('rock /var/spool/squid/anycdn 51200', '1024'), conf('aufs /var/spool/squid/anycdn 51200 16 256', '1024')).map((i) => i.class)).toEqual(['squid-restart-rebuild', 'squid-restart-rebuild']);
    expect(classifySquid(conf('rock /x 1', '1024'), conf('rock /x 1', '2048')).map((i) => i.class)).toEqual(['squid-reconfigure', 'squid-reconfigure']);
  });
  it('knot: the server section restarts, a module setting reloads', () => {
    const conf = (listen: string, rate: number) => `server:\n    listen: ${listen}\n\nmod-rrl:\n  - id: default\n    rate-limit: ${rate}\n`;
    expect(classifyKnotConf(conf('192.0.2.53@53', 200), conf('192.0.2.54@53', 200)).map((i) => i.class)).toEqual(['knot-restart', 'knot-restart']);
    expect(classifyKnotConf(conf('192.0.2.53@53', 200), conf('192.0.2.53@53', 300)).map((i) => i.class)).toEqual(['knot-reload', 'knot-reload']);
  });
});

describe('the health checker config', () => {
  const conf = (drain: object, interval = 150) => JSON.stringify({ intervalMs: interval, drain: { requestFile: '/run/anycdn/drain', withdrawAfterSec: 60, drained: 'none', fallback: '198.51.100.74', knot: { ttlSec: 60, zone: 'cdn.example.net' }, ...drain } }, null, 2);
  it('a model drain, a new delay or a new answer TTL is a reload; anything else a restart', () => {
    expect(classifyHealthcheckConf(conf({}), conf({ drained: 'host' }))).toEqual([
      { class: 'healthcheck-reload', reason: 'drain.drained: "none" -> "host": the checker drains this host: the graceful-shutdown community first, withdrawn 60 s later (drain.withdrawAfterSec); the site\'s other dns hosts keep announcing' },
    ]);
    expect(classifyHealthcheckConf(conf({}), conf({ knot: { ttlSec: 120, zone: 'cdn.example.net' }, withdrawAfterSec: 30 })).map((i) => `${i.class} ${i.reason}`)).toEqual([
      'healthcheck-reload drain.withdrawAfterSec: 60 -> 30',
      'healthcheck-reload drain.knot.ttlSec: 60 -> 120',
    ]);
    expect(classifyHealthcheckConf(conf({}), conf({}, 200))).toEqual([{ class: 'healthcheck-restart', reason: 'intervalMs: 150 -> 200' }]);
    // The fallback answers the probes accept are fixed at start.
    expect(classifyHealthcheckConf(conf({}), conf({ fallback: '198.51.100.10' })).map((i) => i.class)).toEqual(['healthcheck-restart']);
  });
});

describe('keepalived drain and haproxy ring', () => {
  const lb = (init: string) => `vrrp_track_file anycdn_drain {\n\tfile "/run/anycdn/vrrp-drain"\n\tweight 0\n\t${init}\n}\nvrrp_instance vip_ams {\n\tpriority 150\n}\n`;
  it('an lb host drained or undrained in the model moves the VIP, with the runtime drain\'s steps', () => {
    const drain = classifyKeepalived(lb('init_file 0'), lb('init_file 1 overwrite'));
    expect(drain.map((i) => [i.class, i.drain])).toEqual([['keepalived-vip-move', 'drain']]);
    expect(classifyKeepalived(lb('init_file 1 overwrite'), lb('init_file 0')).map((i) => [i.class, i.drain])).toEqual([['keepalived-vip-move', 'undrain']]);
  });

  it('the rendered lb config against the same file numbered by position, as anycdn rendered it before ids: a ring move, with its share', () => {
    const cfg = renderPlans(load(shipped())).find((p) => p.host === 'ams-lb1')!.files.find((f) => f.path === '/etc/haproxy/haproxy.cfg')!.content;
    const positions = cfg.replace(/ id \d+/g, '');
    const impacts = classifyHaproxy(positions, cfg);
    expect(impacts[0]).toEqual({ class: 'haproxy-ring-move', reason: expect.stringMatching(/^ring: \d+\.\d% of the images change cache: \d+\.\d% move between caches that stay \(moved on the ring: ams-cache1 id 1 -> 313213, ams-cache2 id 2 -> 312778\): they start cold on their new cache$/) });
    expect(impacts.slice(1).map((i) => i.class)).toEqual(['haproxy-reload', 'haproxy-reload', 'haproxy-reload', 'haproxy-reload']);
  });
});

describe('owners', () => {
  it("a change of the nginx caches' mtail program is an mtail reload", () => {
    const owner = ownerOf(PATHS.mtailProgram);
    expect(owner?.unit).toBe('mtail');
    expect(owner?.classify('counter a\n', 'counter b\n')).toEqual([{ class: 'mtail-reload', reason: "the program that counts nginx's cache statuses from its access log" }]);
  });


  it('every file rendered for the example model (metal and aws, nginx and Squid, every role) has a daemon that reads it', () => {
    const missing = renderPlans(load(shipped())).flatMap((p) => p.files.filter((f) => !ownerOf(f.path)).map((f) => `${p.site}/${p.host}${f.path}`));
    expect(missing).toEqual([]);
  });
});
