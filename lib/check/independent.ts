// Independent checkers: second opinions on files whose daemon (or shell) accepts more than it
// should. `sh -n` only parses a script; shellcheck finds the quoting and portability bugs that
// parse fine and break at run time. kzonecheck checks what Knot will load; named-checkzone
// (BIND's) adds its own integrity checks (an NS or MX target that is a CNAME, in-zone names
// without address records, records beside a CNAME). Each runs on the same files as the checker
// it stands beside (INDEPENDENT in registry.ts), and any finding fails.
import { shQuote } from '../render/syntax/shell.ts';
import { zoneOrigin } from './dns.ts';
import { mapOutput } from './output.ts';
import type { Checker } from './types.ts';

/**
 * shellcheck at every severity, in gcc format, which names the file on every line:
 *   /usr/local/sbin/anycdn-withdraw:12:5: warning: Quote this to prevent word splitting. [SC2046]
 * The dialect comes from each script's `#!/bin/sh`.
 */
export const shellcheckChecker: Checker = {
  kind: 'shellcheck',
  binary: '/usr/bin/shellcheck',
  debianPackage: 'shellcheck',
  command: (f) => `/usr/bin/shellcheck --format=gcc --severity=style ${shQuote(f.path)}`,
  parse: (out, code, f) => mapOutput('shellcheck', out, code, f, [/^(?<path>\/[^\s:]+):(?<line>\d+):(?<col>\d+): /]),
  contentOnly: true,
  many: {
    command: (fs) => `/usr/bin/shellcheck --format=gcc --severity=style ${fs.map((f) => shQuote(f.path)).join(' ')}`,
    owner: (line, fs) => fs.find((f) => line.startsWith(`${f.path}:`)),
  },
};

/**
 * named-checkzone with its integrity checks failing the zone (`-k fail -n fail`), in-zone only
 * (`-i local`: no lookups of out-of-zone names; the view has no network anyway). The origin is
 * zone the renderer names on the file (knot.conf's domain). Errors look like
 *   /etc/knot/zones/cdn.example.net.zone:9: unknown RR type 'AAA'
 *   zone cdn.example.net/IN: images.cdn.example.net/CNAME has other data
 */
export const namedCheckzoneChecker: Checker = {
  kind: 'named-checkzone',
  binary: '/usr/bin/named-checkzone',
  debianPackage: 'bind9-utils',
  command: (f) => `/usr/bin/named-checkzone -k fail -n fail -m fail -M fail -S fail -i local ${shQuote(zoneOrigin(f))} ${shQuote(f.path)}`,
  // On success it prints `zone .../IN: loaded serial N` and `OK`: only a failed run's lines count.
  parse: (out, code, f) => (code === 0 ? [] : mapOutput('named-checkzone', out.replace(/^.*not loaded due to errors\.$/m, ''), code, f, [/^(?<path>\/[^\s:]+):(?<line>\d+): /, /^(?<zone>zone) [^:]+: /])),
  contentOnly: true,
};
