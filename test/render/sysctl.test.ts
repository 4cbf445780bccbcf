// sysctl.d files carry their settings as data (RenderedFile.sysctls): the text is emitted from the
// same lines, the lab writes the data to /proc/sys with every word quoted, and the dialect's one
// gate refuses a key or value it cannot carry.
import { describe, expect, it } from 'vitest';
import { sysctlWrites } from '../../lib/lab/network.ts';
import { renderPlans } from '../../lib/render/index.ts';
import { comment, emitSysctl, setting, sysctlSettings } from '../../lib/render/syntax/sysctl.ts';
import type { RenderedFile } from '../../lib/render/types.ts';
import { loadEdited } from '../helpers/topology.ts';

describe('sysctl files', () => {
  const lb = renderPlans(loadEdited()).find((p) => p.host === 'ams-lb1')!;
  const file = lb.files.find((f) => f.check === 'sysctl')!;

  it("an lb host's settings as data, and the text says the same", () => {
    expect(file.sysctls).toEqual([
      { key: 'net.ipv4.ip_nonlocal_bind', value: '1' },
      { key: 'net.ipv6.ip_nonlocal_bind', value: '1' },
      { key: 'net.ipv4.conf.all.arp_announce', value: '2' },
      { key: 'net.ipv4.conf.all.arp_ignore', value: '1' },
    ]);
    expect(file.content.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual(file.sysctls!.map((s) => `${s.key} = ${s.value}`));
  });

  it('the lab writes them, quoted, without reading the file back', () => {
    expect(sysctlWrites(lb.files)).toEqual([
      "printf '%s\\n' '1' > '/proc/sys/net/ipv4/ip_nonlocal_bind'",
      "printf '%s\\n' '1' > '/proc/sys/net/ipv6/ip_nonlocal_bind'",
      "printf '%s\\n' '2' > '/proc/sys/net/ipv4/conf/all/arp_announce'",
      "printf '%s\\n' '1' > '/proc/sys/net/ipv4/conf/all/arp_ignore'",
    ]);
    // A file with the same text but no data is not applied: nothing is parsed.
    const textOnly: RenderedFile = { ...file, sysctls: undefined };
    expect(sysctlWrites([textOnly])).toEqual([]);
  });

  it('emits comments and settings in order', () => {
    const lines = [comment('why'), setting('net.ipv4.ip_forward', 1), setting('vm.swappiness', '10')];
    expect(emitSysctl(lines)).toEqual(['# why', 'net.ipv4.ip_forward = 1', 'vm.swappiness = 10']);
    expect(sysctlSettings(lines)).toEqual([{ key: 'net.ipv4.ip_forward', value: '1' }, { key: 'vm.swappiness', value: '10' }]);
  });

  it.each([
    ['a key with a shell word', () => setting('net.ipv4.ip_forward;reboot', 1), 'internal: "net.ipv4.ip_forward;reboot" is not a sysctl key'],
    ['a key with a slash', () => setting('net/ipv4/ip_forward', 1), 'internal: "net/ipv4/ip_forward" is not a sysctl key'],
    ['a value with a space', () => setting('net.ipv4.ip_forward', '1 2'), 'internal: sysctl net.ipv4.ip_forward cannot carry "1 2"'],
    ['a value with a newline', () => setting('net.ipv4.ip_forward', '1\nkernel.panic = 1'), 'internal: sysctl net.ipv4.ip_forward cannot carry "1\\nkernel.panic = 1"'],
    ['a comment with a newline', () => emitSysctl([comment('a\nkernel.panic = 1')]), 'internal: sysctl comment with a newline'],
  ])('refuses %s', (_what, f, message) => {
    expect(f).toThrow(message);
  });
});
