// nginx -t and squid -k parse: the checkers of the cache hosts, run inside a host view.
import { isIP } from 'node:net';
import type { RenderedFile } from '../render/types.ts';
import { shQuote } from '../render/syntax/shell.ts';
import { mapOutput } from './output.ts';
import type { Checker } from './types.ts';

/** nginx's -p prefix inside the view: every path in the file is absolute, so it only has to exist. */
export const NGINX_CHECK_PREFIX = '/run/anycdn-nginx-check/';

/** Hostnames nginx resolves when it loads the file (for hand-written files; rendered ones come with their needs). */
export function upstreamHostnames(content: string): string[] {
  const names = new Set<string>();
  for (const block of content.matchAll(/upstream\s+\S+\s*\{([^}]*)\}/g)) {
    for (const m of block[1]!.matchAll(/^\s*server\s+([^\s;:]+)(?::\d+)?[\s;]/gm)) {
      if (isIP(m[1]!) === 0) names.add(m[1]!);
    }
  }
  return [...names].sort();
}

export const nginxChecker: Checker = {
  kind: 'nginx',
  binary: '/usr/sbin/nginx',
  debianPackage: 'nginx',
  // nginx -t binds every listen address (the view has ip_nonlocal_bind=1 and no real interfaces)
  // and creates and chowns its temp and cache directories: the view has them on tmpfs, from the
  // host's needs (render/catalog.ts). Anything else it would create fails there, read-only.
  command: (f) => `mkdir -p ${shQuote(NGINX_CHECK_PREFIX)} && /usr/sbin/nginx -t -q -p ${shQuote(NGINX_CHECK_PREFIX)} -c ${shQuote(f.path)}`,
  parse: (out, code, f) =>
    mapOutput('nginx', out.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (\[\w+\]) \d+#\d+: /gm, '$1 '), code, f, [/ in (?<path>\/[^\s:]+):(?<line>\d+)$/, /\[(emerg|alert|crit|error)\]/]),
};

/** Squid prints every line it processes; keep what matters for a diagnostic. */
function squidRelevant(out: string): string {
  return out
    .split('\n')
    .filter((l) => !/\| (Processing:|Startup:|Initializing https:\/\/ proxy context|Not currently OK to rewrite swap log|storeDirWriteCleanLogs: Operation aborted|Squid Cache \(Version [^)]*\): Terminated abnormally)/.test(l))
    .filter((l) => !/^(CPU Usage|Maximum Resident Size|Page faults with physical i\/o):/.test(l))
    .map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(\.\d+)?\| /, ''))
    .join('\n');
}

export const squidChecker: Checker = {
  kind: 'squid',
  binary: '/usr/sbin/squid',
  debianPackage: 'squid',
  command: (f: RenderedFile) => `/usr/sbin/squid -k parse -f ${shQuote(f.path)}`,
  parse: (out, code, f) =>
    mapOutput('squid', squidRelevant(out), code, f, [
      /Bungled (?<path>\/\S+) line (?<line>\d+):/,
      /(?<path>\/[^\s(]+)\((?<line>\d+)\): /,
      /^(FATAL|ERROR|WARNING)\b/,
    ]),
};
