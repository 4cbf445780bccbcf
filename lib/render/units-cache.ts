// Units for cache hosts (nginx or squid). Each checks its config before it starts, runs in the
// foreground under systemd, and restarts on failure (nginx resolves the origin hostname at start,
// so a start during a DNS outage simply retries).
import { dirname } from 'node:path';
import type { Host, Site, Topology } from '../model/schema.ts';
import { PATHS } from './paths.ts';
import { shQuote, varRef } from './syntax/shell.ts';
import { exec, MAINPID, type Exec } from './syntax/unit.ts';
import { hasRole } from '../model/facts.ts';
import type { UnitSpec } from './unit-spec.ts';
import { thumbnailerUnits } from './thumbnailer.ts';

/** `daemon off;` lives on the command line, so the file still runs as a normal daemon by hand. */
export function nginxStart(conf: string = PATHS.nginxConf): Exec {
  return exec('/usr/sbin/nginx', '-c', conf, '-g', 'daemon off;');
}

export function squidStart(conf: string = PATHS.squidConf): Exec {
  return exec('/usr/sbin/squid', '-N', '-f', conf);
}

/** A command as one line of POSIX sh (for scripts that start the daemons by hand, as tests do). */
export function shellLine(e: Exec): string {
  return e.argv.map((w) => (typeof w === 'string' ? shQuote(w) : varRef(w.env).text)).join(' ');
}

export function cacheUnits(t: Topology, site: Site, host: Host): UnitSpec[] {
  if (!hasRole(host, 'cache')) return [];
  if (host.cacheEngine === 'nginx') {
    return [
      {
        name: 'nginx',
        description: 'nginx image cache in front of the origin (anycdn)',
        after: ['network-online.target', 'nss-lookup.target'],
        service: [
          ['Type', 'simple'],
          // nginx creates the cache and temp directories itself, but not their parents or the log directory.
          ['ExecStartPre', exec('/bin/mkdir', '-p', dirname(t.cdn.cache.nginx.path), PATHS.nginxTempDir, dirname(PATHS.nginxErrorLog))],
          ['ExecStartPre', exec('/usr/sbin/nginx', '-t', '-q', '-c', PATHS.nginxConf, '-g', 'daemon off;')],
          ['ExecStart', nginxStart()],
          // HUP re-reads the file and re-resolves the origin hostname, without dropping requests.
          ['ExecReload', exec('/bin/kill', '-HUP', MAINPID)],
          // QUIT is nginx's graceful stop: requests in flight finish.
          ['KillSignal', 'SIGQUIT'],
          ['TimeoutStopSec', '10'],
          ['Restart', 'on-failure'],
          ['RestartSec', '2'],
          ['LimitNOFILE', '65536'],
        ],
      },
      ...thumbnailerUnits(t, site, host),
    ];
  }
  if (host.cacheEngine === 'squid') {
    return [
      {
        name: 'squid',
        description: 'Squid image cache (accelerator) in front of the origin (anycdn)',
        after: ['network-online.target', 'nss-lookup.target'],
        service: [
          ['Type', 'simple'],
          ['ExecStartPre', exec('/usr/sbin/squid', '-k', 'parse', '-f', PATHS.squidConf)],
          // Creates the cache_dir (and a rock database) when missing; a no-op afterwards.
          ['ExecStartPre', exec('/usr/sbin/squid', '-z', '-N', '-f', PATHS.squidConf)],
          ['ExecStart', squidStart()],
          ['ExecReload', exec('/usr/sbin/squid', '-k', 'reconfigure', '-f', PATHS.squidConf)],
          ['TimeoutStopSec', '10'],
          ['Restart', 'on-failure'],
          ['RestartSec', '2'],
          ['LimitNOFILE', '65536'],
        ],
      },
    ];
  }
  return [];
}
