// bird's control protocol as lib/lab/bird-ctl.ts speaks it, against a socket that answers as bird
// 2.0 does (its greeting, `<code>-` first lines, ` ` further lines, a `0000` end, 8xxx/9xxx errors).
// That the real bird answers so is shown in the lab (test/lab/bfd.test.ts reads lab status).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { birdCommand, parseBfdSessions } from '../../lib/lab/bird-ctl.ts';

const SHOW_BFD = [
  '1020-bfd1:',
  ' IP address                Interface  State      Since         Interval  Timeout',
  ' 192.0.2.1                 eth0       Down       21:30:01.123    1.000    0.000',
  ' 2001:db8:ffff::1          eth0       Up         21:30:02.456    0.100    0.300',
  '0000 ',
];

const dir = mkdtempSync(join(tmpdir(), 'anycdn-bird-ctl-'));
const servers: Server[] = [];

/** A socket that greets like bird and answers each command line from `replies`, in pieces of 7 bytes. */
function fakeBird(name: string, replies: Record<string, string[]>, greeting = '0001 BIRD 2.0.12 ready.'): Promise<string> {
  const path = join(dir, name);
  const server = createServer((c) => {
    c.write(`${greeting}\n`);
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      const reply = (replies[d.trim()] ?? ['9001 syntax error']).join('\n') + '\n';
      for (let i = 0; i < reply.length; i += 7) c.write(reply.slice(i, i + 7));
    });
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(path, () => resolve(path)));
}

afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("bird's control socket", () => {
  it('reads a reply split anywhere, codes stripped, to its 0000 end', async () => {
    const path = await fakeBird('ok.ctl', { 'show bfd sessions': SHOW_BFD });
    const lines = await birdCommand(path, 'show bfd sessions');
    expect(lines).toEqual(['bfd1:', 'IP address                Interface  State      Since         Interval  Timeout', '192.0.2.1                 eth0       Down       21:30:01.123    1.000    0.000', '2001:db8:ffff::1          eth0       Up         21:30:02.456    0.100    0.300']);
    expect(parseBfdSessions(lines)).toEqual([
      { address: '192.0.2.1', interface: 'eth0', state: 'Down' },
      { address: '2001:db8:ffff::1', interface: 'eth0', state: 'Up' },
    ]);
  });

  it('rejects a bird error with its text, a foreign greeting, a missing socket, and silence past the timeout', async () => {
    const path = await fakeBird('err.ctl', {});
    await expect(birdCommand(path, 'show bfd sessions')).rejects.toThrow('bird refused "show bfd sessions": syntax error');
    const other = await fakeBird('other.ctl', {}, 'SSH-2.0-OpenSSH_9.2');
    await expect(birdCommand(other, 'show bfd sessions')).rejects.toThrow('greeted with "SSH-2.0-OpenSSH_9.2"');
    await expect(birdCommand(join(dir, 'absent.ctl'), 'show bfd sessions')).rejects.toThrow(`bird's control socket ${join(dir, 'absent.ctl')}: ENOENT`);
    const mute = await fakeBird('mute.ctl', { 'show bfd sessions': ['1020-bfd1:'] });
    await expect(birdCommand(mute, 'show bfd sessions', 300)).rejects.toThrow('gave no whole reply to "show bfd sessions" within 300 ms');
  });

  it('reads no session from a BFD protocol with none, and skips what is not a session row', () => {
    expect(parseBfdSessions(['bfd1:', 'IP address                Interface  State      Since         Interval  Timeout'])).toEqual([]);
    expect(parseBfdSessions(['bfd1:', '192.0.2.9 eth1 Init 21:30:01.123 1.000 0.000', 'garbage', '192.0.2.8 eth1 Sideways x'])).toEqual([{ address: '192.0.2.9', interface: 'eth1', state: 'Init' }]);
  });
});
