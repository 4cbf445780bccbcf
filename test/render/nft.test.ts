// nftables: the emitter writes tables as the renderers need them, whole, and the one-line command
// scripts `nft` takes; the dialect's gate refuses what is not vetted; nft itself reads quoted
// strings back (loaded into a network namespace of the test's own, then listed).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { block, stmt } from '../../lib/render/syntax/brace.ts';
import { quote as birdQuote } from '../../lib/render/syntax/bird.ts';
import { chainSpec, emitNft, hook, ident, nftCommands, quote, set, setRef } from '../../lib/render/syntax/nft.ts';
import { ip, prefix } from '../../lib/render/syntax/word.ts';
import { missingRoot } from '../helpers/daemons.ts';
import { dialectConformance, plainQuoted } from '../helpers/dialect.ts';

describe('nft syntax', () => {
  it('writes a table with a set and a base chain, as a file for nft -f', () => {
    const t = ident('anycdn_exporters');
    expect(
      emitNft([
        stmt('table', 'inet', t),
        stmt('delete', 'table', 'inet', t),
        block(
          ['table', 'inet', t],
          [
            block(['set', ident('scrape4')], [stmt('type', 'ipv4_addr'), stmt('flags', 'interval'), stmt('elements', '=', set([prefix('192.0.2.0/28'), prefix('198.51.100.0/24')]))]),
            block(['chain', ident('input')], [hook({ type: 'filter', hook: 'input', priority: 'filter', policy: 'accept' }), stmt('tcp', 'dport', set([9100, 9324]), 'ip', 'saddr', setRef('scrape4'), 'accept'), stmt('tcp', 'dport', set([9100, 9324]), 'drop')]),
          ],
        ),
      ]),
    ).toEqual([
      'table inet anycdn_exporters',
      'delete table inet anycdn_exporters',
      'table inet anycdn_exporters {',
      '\tset scrape4 {',
      '\t\ttype ipv4_addr',
      '\t\tflags interval',
      '\t\telements = { 192.0.2.0/28, 198.51.100.0/24 }',
      '\t}',
      '\tchain input {',
      '\t\ttype filter hook input priority filter; policy accept;',
      '\t\ttcp dport { 9100, 9324 } ip saddr @scrape4 accept',
      '\t\ttcp dport { 9100, 9324 } drop',
      '\t}',
      '}',
    ]);
  });

  it('writes a one-line script of commands', () => {
    const t = ident('anycdn_drain');
    expect(
      nftCommands([
        ['add', 'table', 'inet', t],
        ['add', 'chain', 'inet', t, ident('input'), chainSpec({ type: 'filter', hook: 'input', priority: 'filter', offset: -10, policy: 'accept' })],
        ['add', 'rule', 'inet', t, ident('input'), 'ip', 'daddr', ip('198.51.100.10'), 'tcp', 'dport', set([80, 443]), 'tcp', 'flags', '&', '(syn', '|', 'ack)', '==', 'syn', 'drop'],
      ]),
    ).toBe('add table inet anycdn_drain; add chain inet anycdn_drain input { type filter hook input priority filter - 10; policy accept; }; add rule inet anycdn_drain input ip daddr 198.51.100.10 tcp dport { 80, 443 } tcp flags & (syn | ack) == syn drop');
  });

  it('refuses names that are not nft names, an empty set, and a command word that is not syntax', () => {
    for (const bad of ['Exporters', 'a-b', '1a', 'a b', '']) expect(() => ident(bad)).toThrow(/is not an nft name/);
    expect(() => set([])).toThrow('internal: an empty nft set');
    expect(() => nftCommands([['add', 'table', 'inet', 'x; flush ruleset']])).toThrow(/internal: nft word/);
  });
});

dialectConformance({
  name: 'nft',
  quote: (v) => quote(v).text,
  cannotCarry: (v) => /["\x00-\x1f\x7f]/.test(v),
  readBack: plainQuoted,
  emitQuoted: (v) => emitNft([stmt('tcp', 'dport', 80, 'accept', 'comment', quote(v))]),
  hostile: [
    ['two words in a plain string', () => emitNft([stmt('tcp', 'dport 80')])],
    ['a statement break', () => emitNft([stmt('accept;', 'flush', 'ruleset')])],
    ['a comment', () => emitNft([stmt('accept', '#x')])],
    ['an nft variable', () => emitNft([stmt('ip', 'saddr', '$trusted')])],
    ['a block opener', () => emitNft([block(['table', 'inet', 'x {'], [])])],
    ['a plain string that looks quoted', () => emitNft([stmt('comment', '"x"')])],
    ['a plain set member', () => set(['192.0.2.1, 0.0.0.0/0' as unknown as number])],
    ['a bird word', () => emitNft([stmt('comment', birdQuote('x'))])],
    ['a hook priority offset that is not a whole number', () => hook({ type: 'filter', hook: 'input', priority: 'filter', offset: 0.5 })],
  ],
  daemon: {
    binary: '/usr/sbin/nft',
    debianPackage: 'nftables',
    alsoNeeds: missingRoot,
    // nft keeps a rule comment to 128 bytes.
    alphabet: 'grapheme-ascii',
    maxLength: 40,
    numRuns: 30,
    what: 'nft lists every quoted comment back as it was written (loaded in a network namespace of its own)',
    check: (v, dir) => {
      const f = join(dir, 'table.nft');
      writeFileSync(f, `${emitNft([block(['table', 'inet', ident('t')], [block(['chain', ident('c')], [stmt('tcp', 'dport', 80, 'accept', 'comment', quote(`zz${v}`))])])]).join('\n')}\n`);
      // A namespace of its own: the table never reaches this machine's ruleset.
      const r = spawnSync('unshare', ['-n', 'sh', '-c', 'nft -f "$1" && nft list table inet t', 'sh', f], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(/comment "(.*)"$/m.exec(r.stdout)?.[1]).toBe(`zz${v}`);
    },
  },
});
