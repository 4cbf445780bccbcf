// Fake servers on loopback for the health checker: a DNS server (UDP and TCP), an HTTP server,
// bird's control socket, and an `ip` that records what it is asked to do. Each can be made
// healthy, wrong, silent or dead at will, so a test drives the checker through every state.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type DnsMode = 'ok' | 'wrong' | 'silent' | 'dead';

/**
 * Answers A queries with `answer` and AAAA queries with `answer6` ('ok'), another address
 * ('wrong'), nothing, or not at all; on `host` and, when given, a fixed `port`.
 */
export class FakeDns {
  mode: DnsMode = 'ok';
  queries = 0;
  /** The source addresses queries came from, over either transport. */
  sources = new Set<string>();
  private udp!: UdpSocket;
  private tcp!: net.Server;
  private conns = new Set<net.Socket>();
  port = 0;
  constructor(
    public answer: string,
    public answer6?: string,
    private host = '127.0.0.1',
    fixedPort = 0,
  ) {
    this.port = fixedPort;
  }

  async start(): Promise<void> {
    this.tcp = net.createServer((c) => {
      this.conns.add(c);
      if (c.remoteAddress) this.sources.add(c.remoteAddress);
      c.on('close', () => this.conns.delete(c));
      let buf = Buffer.alloc(0);
      c.on('error', () => {});
      c.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + q.length);
          const r = this.reply(q);
          if (r) c.write(Buffer.concat([Buffer.from([r.length >> 8, r.length & 0xff]), r]));
        }
      });
    });
    await new Promise<void>((r) => this.tcp.listen(this.port, this.host, r));
    this.port = (this.tcp.address() as net.AddressInfo).port;
    this.udp = createSocket('udp4');
    this.udp.on('message', (q, from) => {
      this.sources.add(from.address);
      const r = this.reply(q);
      if (r) this.udp.send(r, from.port, from.address);
    });
    await new Promise<void>((r) => this.udp.bind(this.port, this.host, r));
  }

  private reply(q: Buffer): Buffer | undefined {
    this.queries++;
    if (this.mode === 'silent' || this.mode === 'dead') return undefined;
    // The question ends in its type (2 bytes) and class (2 bytes).
    const question = q.subarray(12);
    const aaaa = question.readUInt16BE(question.length - 4) === 28;
    // Header: same id, QR + AA, one question, one answer (none for AAAA without answer6).
    const answers = aaaa && this.answer6 === undefined ? 0 : 1;
    const header = Buffer.from([q[0]!, q[1]!, 0x84, 0x00, 0, 1, 0, answers, 0, 0, 0, 0]);
    if (answers === 0) return Buffer.concat([header, question]);
    const rdata = aaaa ? v6Bytes(this.mode === 'ok' ? this.answer6! : '2001:db8::99') : (this.mode === 'ok' ? this.answer : '203.0.113.99').split('.').map(Number);
    const rr = Buffer.from([0xc0, 12, 0, aaaa ? 28 : 1, 0, 1, 0, 0, 0, 60, 0, rdata.length, ...rdata]);
    return Buffer.concat([header, question, rr]);
  }

  /** 'dead': TCP connections are refused and cut, as when the server process is gone. */
  async setMode(mode: DnsMode): Promise<void> {
    this.mode = mode;
    if (mode === 'dead') {
      this.tcp.close();
      for (const c of this.conns) c.destroy();
    }
  }

  async stop(): Promise<void> {
    this.udp.close();
    for (const c of this.conns) c.destroy();
    if (this.tcp.listening) await new Promise<void>((r) => this.tcp.close(() => r()));
  }
}

function v6Bytes(a: string): number[] {
  const [head = '', tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

/** A health endpoint: 200, 503, or no answer at all ('hang'), on `host`. */
export class FakeHttp {
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  requests = 0;
  connections = 0;
  private server!: http.Server;
  port = 0;
  constructor(private host = '127.0.0.1') {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.requests++;
      if (this.mode === 'hang') return;
      res.writeHead(this.mode === 'ok' ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(this.mode === 'ok' ? 'ok\n' : 'no cache\n');
    });
    this.server.on('connection', () => this.connections++);
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server.listen(0, this.host, r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** bird's control socket: greets, and answers `configure` as bird 2 does. */
export class FakeBird {
  configures = 0;
  private server!: net.Server;
  constructor(readonly socket: string) {}

  async start(): Promise<void> {
    this.server = net.createServer((c) => {
      c.on('error', () => {});
      c.write('0001 BIRD 2.0.12 ready.\n');
      c.on('data', (d) => {
        if (d.toString().trim() === 'configure') {
          this.configures++;
          c.write('0002-Reading configuration from /etc/bird/bird.conf\n0003 Reconfigured\n');
        } else c.write('9001 syntax error\n');
      });
    });
    await new Promise<void>((r) => this.server.listen(this.socket, r));
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A scratch dir with an `ip` stand-in that appends each batch it is given to a log. */
export function fakeIp(): { dir: string; ip: string; batches: () => string[][]; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'anycdn-hc-'));
  const ip = join(dir, 'ip');
  const log = join(dir, 'ip.log');
  writeFileSync(ip, `#!/bin/sh\n[ "$*" = "-force -batch -" ] || exit 2\n{ cat; echo '--'; } >> '${log}'\n`);
  chmodSync(ip, 0o755);
  return {
    dir,
    ip,
    batches: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('--\n')
            .filter(Boolean)
            .map((b) => b.trim().split('\n'))
        : [],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A `knotc` stand-in in `dir` that logs each call's arguments (one line each) and succeeds. */
export function fakeKnotc(dir: string): { knotc: string; calls: () => string[] } {
  const knotc = join(dir, 'knotc');
  const log = join(dir, 'knotc.log');
  writeFileSync(knotc, `#!/bin/sh\necho "$*" >> '${log}'\necho OK\n`);
  chmodSync(knotc, 0o755);
  return { knotc, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}
