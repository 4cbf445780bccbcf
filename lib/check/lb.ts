// haproxy -c and keepalived -t: the checkers of the lb hosts.
import type { Diagnostic } from '../model/errors.ts';
import type { RenderedFile } from '../render/types.ts';
import { shQuote } from '../render/syntax/shell.ts';
import { mapOutput } from './output.ts';
import type { Checker } from './types.ts';

/**
 * `haproxy -c -dW -f F`. Not `-q`: haproxy 2.6 then prints nothing at all, not even the error.
 * `-dW` (zero-warning mode) fails the check on warnings too, as the house checkers do.
 * Output lines look like
 *   [ALERT]    (14082) : config : parsing [/etc/haproxy/haproxy.cfg:12] : balance only supports ...
 *   [ALERT]    (14082) : config : [/etc/haproxy/haproxy.cfg:16] : 'server caches/a' : unknown keyword 'chek'; ...
 *   [WARNING]  (14082) : config : parsing [/etc/haproxy/haproxy.cfg:12] : 'balance' ignored because ...
 */
export const haproxyChecker: Checker = {
  kind: 'haproxy',
  binary: '/usr/sbin/haproxy',
  debianPackage: 'haproxy',
  command: (f) => `/usr/sbin/haproxy -c -dW -f ${shQuote(f.path)}`,
  parse: (out, code, f) => dedupe(mapOutput('haproxy', out, code, f, [/\[(?<path>\/[^\]:]+):(?<line>\d+)\]/]).map(stripPid)),
};

/**
 * `keepalived -t -f F`: exit 0 when fine, 5 on configuration errors (2.2.7), and 143 when it
 * kills itself after a successful parse with scripts run as a non-root user (acassen/keepalived#2617,
 * fixed in 2.2.8). The parent and its children each parse, so a message can appear several times.
 * Output lines look like
 *   (/etc/keepalived/keepalived.conf: Line 8) number '300' outside range [1, 255]
 *   (Line 1) Unknown keyword 'bogus'
 */
export const keepalivedChecker: Checker = {
  kind: 'keepalived',
  binary: '/usr/sbin/keepalived',
  debianPackage: 'keepalived',
  command: (f) => `/usr/sbin/keepalived -t -f ${shQuote(f.path)}`,
  parse: (out, code, f) => {
    const ds = dedupe(mapOutput('keepalived', out, code, f, [/^\((?<path>\/[^:]+): Line (?<line>\d+)\)/, /^\(Line (?<line>\d+)\)/]));
    if (code === 143) {
      return ds.map((d) => ({ ...d, message: `${d.message} (keepalived 2.2.7 kills its own config test when a script runs as a non-root user; see acassen/keepalived#2617)` }));
    }
    return ds;
  },
};

/** Every `ssl crt PATH` on a bind line (for hand-written files; rendered ones come with their needs). */
export function haproxyCertPaths(content: string): string[] {
  return [...new Set([...content.matchAll(/^\s*bind\s.*\bcrt\s+(\/\S+)/gm)].map((m) => m[1]!))].sort();
}

/** Interface names keepalived.conf refers to (for hand-written files; rendered ones come with their needs). */
export function keepalivedInterfaces(content: string): string[] {
  const names = [...content.matchAll(/^\s*interface\s+([a-z][a-z0-9]{0,14})\s*$/gm), ...content.matchAll(/\sdev\s+([a-z][a-z0-9]{0,14})\s*$/gm)].map((m) => m[1]!);
  return [...new Set(names)].sort();
}

/** haproxy prefixes every line with its pid: keep diagnostics deterministic. */
function stripPid(d: Diagnostic): Diagnostic {
  return { ...d, message: d.message.replace(/\s+\(\d+\)\s+:/, ' :').replace(/\s{2,}/g, ' ') };
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const key = `${d.file}:${d.line}:${d.col}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
