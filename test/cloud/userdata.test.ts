// Cloud user data (lib/cloud/userdata.ts) is a bash program that runs as root on every boot of an
// aws host: every form of it goes through `bash -n` and shellcheck, as the rendered scripts do,
// and each checker rejects a known-bad script. Its one quoting function is the shell dialect's.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { userData, type UserDataInput } from '../../lib/cloud/userdata.ts';
import { missingBinary } from '../helpers/daemons.ts';

const BASE: UserDataInput = {
  host: 'sin-lb1',
  region: 'ap-southeast-1',
  bundleUrl: 's3://bucket/sin-lb1.tar.gz',
  bundleSha256: 'ab'.repeat(32),
  packages: ['haproxy', 'keepalived', 'knot', 'nodejs'],
  units: ['anycdn-healthcheck.service', 'haproxy.service', 'keepalived.service', 'knot.service'],
  address: { address: '10.30.0.11', subnet: '10.30.0.0/24', router: '10.30.0.1', vpcCidr: '10.30.0.0/16', interface: 'ens5' },
  egress: { subnet: '100.64.0.32/27', router: '100.64.0.33' },
};
const READINESS = { probes: ['http://10.30.0.11:8053/anycast', 'http://10.30.0.11:80/healthz'], attempts: 60, intervalSec: 5 };

/** Every form the adapters build: plain, with the primary-address forward, with either signal. */
const FORMS: [string, UserDataInput][] = [
  ['plain', BASE],
  ['forwarding from the primary address', { ...BASE, forwardFromPrimary: { tcp: [53, 8053], udp: [53] } }],
  ['signalling a wait condition handle (CDK)', { ...BASE, forwardFromPrimary: { tcp: [53], udp: [53] }, readiness: { ...READINESS, signal: { url: 'https://cloudformation-waitcondition.example/handle' } } }],
  ['signalling through a stack (Pulumi)', { ...BASE, readiness: { ...READINESS, signal: { stack: 'anycdn-sin-lb1-ready' } } }],
];

/** The bash part of the MIME multipart. */
function script(ud: string): string {
  const m = /Content-Type: text\/x-shellscript; charset="us-ascii"\n\n([\s\S]*)\n--==anycdn-boundary==--\n$/.exec(ud);
  if (!m) throw new Error('no shell script part in the user data');
  return `${m[1]}\n`;
}

/** What bash -n and shellcheck (as lib/check/independent.ts runs it on rendered scripts) say. */
function check(text: string): { bash: string; shellcheck: string } {
  const bash = spawnSync('/bin/bash', ['-n'], { input: text, encoding: 'utf8' });
  const sc = spawnSync('/usr/bin/shellcheck', ['--format=gcc', '--severity=style', '--shell=bash', '-'], { input: text, encoding: 'utf8' });
  return { bash: `${bash.status} ${bash.stderr}`.trim(), shellcheck: `${sc.status} ${sc.stdout}${sc.stderr}`.trim() };
}

describe.skipIf(missingBinary('/usr/bin/shellcheck', 'shellcheck') ?? missingBinary('/bin/bash', 'bash'))('user data through bash -n and shellcheck', () => {
  it.each(FORMS)('%s: both pass', (_what, input) => {
    expect(check(script(userData(input)))).toEqual({ bash: '0', shellcheck: '0' });
  });

  it('each rejects a known-bad script', () => {
    const good = script(userData(FORMS[3]![1]));
    // An if without its fi: bash's own parser refuses it.
    const unclosed = good.replace(/\n\tfi\n/, '\n');
    expect(unclosed).not.toBe(good);
    expect(check(unclosed).bash).toMatch(/^2 \/bin\/bash: line \d+: syntax error/);
    // The test this file once had: `-n "\${X:-}"` tests a literal string, always true.
    const literal = good.replace('[ -n "${SIGNAL_STACK:-}" ]', '[ -n "\\${SIGNAL_STACK:-}" ]');
    expect(literal).not.toBe(good);
    expect(check(literal)).toEqual({ bash: '0', shellcheck: expect.stringMatching(/^1 -:\d+:\d+: error: Argument to -n is always true due to literal strings\. \[SC2157\]$/) });
  });
});

describe('user data', () => {
  it('reads SIGNAL_STACK, not a literal string, to decide how to signal', () => {
    // bash itself: with SIGNAL_URL given (CDK) signal() must not look a stack up.
    const text = script(userData(FORMS[2]![1]));
    expect(text).toContain('\tif [ -n "${SIGNAL_STACK:-}" ]; then signal_url || return 1; fi\n');
  });
});
