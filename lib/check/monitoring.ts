// promtool: the checker of the Prometheus server's scrape config (which also checks the rule files
// it names) and of the alert rules. Output lines look like
//   FAILED: parsing YAML file /etc/prometheus/prometheus.yml: yaml: unmarshal errors:
//   line 7: field bogus not found in type config.ScrapeConfig
//   /etc/prometheus/anycdn-rules.yml: 5:15: group "x", rule 1, "A": could not parse expression: ...
import { shQuote } from '../render/syntax/shell.ts';
import { mapOutput } from './output.ts';
import type { Checker } from './types.ts';

const PATTERNS = [/^(?<path>\/[^\s:]+): (?<line>\d+):(?<col>\d+): /, /\bline (?<line>\d+): /];

export const prometheusChecker: Checker = {
  kind: 'prometheus',
  binary: '/usr/bin/promtool',
  debianPackage: 'prometheus',
  command: (f) => `/usr/bin/promtool check config ${shQuote(f.path)}`,
  parse: (out, code, f) => mapOutput('promtool', out, code, f, PATTERNS),
};

export const prometheusRulesChecker: Checker = {
  kind: 'prometheus-rules',
  binary: '/usr/bin/promtool',
  debianPackage: 'prometheus',
  command: (f) => `/usr/bin/promtool check rules ${shQuote(f.path)}`,
  parse: (out, code, f) => mapOutput('promtool', out, code, f, PATTERNS),
};

/**
 * `nft -c` parses the exporters' table and checks it against the kernel's nftables without
 * changing anything. Its errors look like
 *   /usr/local/etc/anycdn/exporters.nft:12:7-12: Error: syntax error, unexpected string
 */
export const nftChecker: Checker = {
  kind: 'nft',
  binary: '/usr/sbin/nft',
  debianPackage: 'nftables',
  command: (f) => `/usr/sbin/nft -c -f ${shQuote(f.path)}`,
  parse: (out, code, f) => mapOutput('nft', out, code, f, [/^(?<path>\/[^\s:]+):(?<line>\d+):(?<col>\d+)(?:-\d+)?: /]),
};

/**
 * mtail compiles the nginx caches' program without running it (`--compile_only`). It still binds
 * its HTTP port, so the check asks for a free one on loopback (inside the view's own network
 * namespace anyway), and --logtostderr keeps glog's files out of the temp directory. Errors name
 * the program by its base name:
 *   anycdn-nginx.mtail:12:3: Identifier `x' not declared.
 */
export const mtailChecker: Checker = {
  kind: 'mtail',
  binary: '/usr/bin/mtail',
  debianPackage: 'mtail',
  contentOnly: true,
  command: (f) => `/usr/bin/mtail --compile_only --logtostderr --address 127.0.0.1 --port 0 --progs ${shQuote(f.path)}`,
  parse: (out, code, f) => {
    const base = f.path.replace(/^.*\//, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return mapOutput('mtail', out, code, f, [new RegExp(`^${base}:(?<line>\\d+):(?<col>\\d+)(?:-\\d+)?: `)]);
  },
};
