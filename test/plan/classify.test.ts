// Classification reads the statements that changed, not the file name: the same file gets a
// different class depending on what changed in it. Whole files, as the renderers write them.
import { describe, expect, it } from 'vitest';
import { classifyBird, classifyKeepalived, classifyKnotConf, classifyNginx, classifySquid } from '../../lib/plan/classify.ts';
import { ownerOf } from '../../lib/plan/owners.ts';
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
  it('nginx: proxy_cache_path restarts with an empty cache, anything else reloads', () => {
    const conf = (size: string, timeout: string) => `http {\n\tproxy_cache_path /var/cache/nginx/anycdn levels=1:2 keys_zone=anycdn:64m max_size=${size};\n\tserver {\n\t\tproxy_read_timeout ${timeout};\n\t}\n}\n`;
    expect(classifyNginx(conf('50g', '10s'), conf('80g', '10s')).map((i) => i.class)).toEqual(['nginx-restart-cache-loss', 'nginx-restart-cache-loss']);
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

describe('owners', () => {
  it('every file rendered for the example model (metal and aws, nginx and Squid, every role) has a daemon that reads it', () => {
    const missing = renderPlans(load(shipped())).flatMap((p) => p.files.filter((f) => !ownerOf(f.path)).map((f) => `${p.site}/${p.host}${f.path}`));
    expect(missing).toEqual([]);
  });
});
