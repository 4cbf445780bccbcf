// systemd-analyze verify and the sysctl key check: the checkers of the files every host role
// installs next to its daemon's config (units and sysctl.d).
import { shQuote } from '../render/syntax/shell.ts';
import { mapOutput } from './output.ts';
import type { Checker } from './types.ts';

/**
 * `systemd-analyze verify` runs offline in the host view: the unit's commands, users and the
 * units it orders against must exist there. It exits 0 on an unknown key or a value it ignores,
 * so any output at all fails the check, as haproxy's zero-warning mode does. Output lines look like
 *   /etc/systemd/system/bird.service:7: Unknown key 'Bogus' in section [Service], ignoring.
 *   bird.service: Command /usr/sbin/bird is not executable: No such file or directory
 */
export const systemdChecker: Checker = {
  kind: 'systemd',
  binary: '/usr/bin/systemd-analyze',
  debianPackage: 'systemd',
  command: (f) => `/usr/bin/systemd-analyze verify --man=no ${shQuote(f.path)}`,
  parse: (out, code, f) => mapOutput('systemd-analyze', out, code === 0 && /\S/.test(out) ? 1 : code, f, [/^(?<path>\/[^\s:]+):(?<line>\d+): /, /^[A-Za-z0-9@_.-]+\.service: /]),
  // One systemd-analyze per host rather than per unit: each start loads systemd's whole unit
  // search path. Its lines start with the unit's path or name.
  many: {
    command: (fs) => `/usr/bin/systemd-analyze verify --man=no ${fs.map((f) => shQuote(f.path)).join(' ')}`,
    owner: (line, fs) => {
      const lead = /^([^\s:]+):/.exec(line)?.[1];
      return lead === undefined ? undefined : fs.find((f) => f.path === lead || f.path.slice(f.path.lastIndexOf('/') + 1) === lead);
    },
  },
};

/**
 * A sysctl.d file against the running kernel: every `key = value` line names a key under
 * /proc/sys (a typo would make `sysctl -p` fail at boot, or be skipped with `-`). Nothing is
 * written: applying the file here would change the machine. Output lines look like
 *   /etc/sysctl.d/60-anycdn.conf:5: unknown sysctl key net.ipv4.ip_nonlocal_bnd (no /proc/sys/net/ipv4/ip_nonlocal_bnd)
 */
export const sysctlChecker: Checker = {
  kind: 'sysctl',
  binary: '/usr/bin/awk',
  debianPackage: 'mawk',
  command: (f) =>
    `/usr/bin/awk ${shQuote(
      [
        '/^[ \\t]*([#;]|$)/ { next }',
        '{ eq = index($0, "="); if (eq == 0) { printf "%s:%d: not a key = value line\\n", FILENAME, FNR; bad = 1; next }',
        '  k = substr($0, 1, eq - 1); gsub(/^[ \\t-]+|[ \\t]+$/, "", k)',
        '  if (k !~ /^[a-z0-9_][a-z0-9_.\\/-]*$/) { printf "%s:%d: not a sysctl key: %s\\n", FILENAME, FNR, k; bad = 1; next }',
        '  p = k; gsub(/\\./, "/", p)',
        '  if (system("test -e /proc/sys/" p) != 0) { printf "%s:%d: unknown sysctl key %s (no /proc/sys/%s)\\n", FILENAME, FNR, k, p; bad = 1 } }',
        'END { exit bad }',
      ].join('\n'),
    )} ${shQuote(f.path)}`,
  parse: (out, code, f) => mapOutput('sysctl', out, code, f, [/^(?<path>\/[^\s:]+):(?<line>\d+): /]),
};
