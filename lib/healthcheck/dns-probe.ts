// The DNS prober of one service address: one connected UDP socket and one TCP connection, both
// kept across rounds, each bound to the service address itself as its source. A query from the
// address to the address is delivered only while the address is this host's own (the kernel's
// local table, over lo), so only the local Knot can answer it: once the address is gone from lo,
// binding fails at once (EADDRNOTAVAIL), and a socket bound before gets no answer back here.
// Without the binding, a withdrawn prefix's probe would follow the default route to the site that
// still announces the prefix, and that site's answer (its own VIP: the drain fallback this prober
// also accepts) would re-announce a prefix this host cannot serve, then withdraw it, and so on.
// Each round asks for A (and AAAA when the site has an IPv6 VIP) over both and
// wants exactly this site's addresses. The queries are built once and a round rewrites only their
// message ids; answers are checked in place; the checker's one timer per round ends what is still
// open (expire). A round allocates next to nothing: at 150 ms intervals the checker's CPU is what
// these rounds cost.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import net from 'node:net';
import type { DnsConfig } from './config.ts';
import { addressBytes, answerMatches, canonicalIp, dnsQuery, type QType } from './dns-wire.ts';

interface Query {
  qtype: QType;
  tcp: boolean;
  /** The message as sent (over TCP: with its length prefix, a view into the round's one write). */
  msg: Buffer;
  /** Where the message id sits in `msg`. */
  idAt: number;
  /** The good answers, as addressBytes gives them. */
  expect: Buffer[];
}

/** Closes a UDP socket that may be closed already (an error and a timeout can both drop it). */
function closeQuietly(s: UdpSocket): void {
  try {
    s.close();
  } catch {
    // already closed
  }
}

export class DnsProber {
  private readonly queries: Query[] = [];
  /** The TCP queries of a round go out in one write (one segment): each TCP query is a view into it. */
  private readonly tcpAll: Buffer;
  /** Which queries of this round are still unanswered. */
  private readonly open: boolean[];
  private left = 0;
  private running = false;
  private base = Math.floor(Math.random() * 0xffff);
  private udp: UdpSocket | undefined;
  private udpReady = false;
  /** UDP queries of a round that began before the socket was connected. */
  private readonly udpBacklog: Buffer[] = [];
  private tcp: net.Socket | undefined;
  private tcpBuf: Buffer | undefined;
  private readonly port: number;

  /**
   * @param drain also good answers: a draining site's DNS answers with them
   * @param onResult hears each round's result, once
   */
  constructor(
    dns: DnsConfig,
    private readonly server: string,
    drain: { fallback?: string | undefined; fallback6?: string | undefined },
    private readonly onResult: (ok: boolean) => void,
  ) {
    this.port = dns.port;
    const want = (list: (string | undefined)[]) => [...new Set(list.filter((a): a is string => a !== undefined).map(canonicalIp))].map(addressBytes);
    const asks: [QType, Buffer[]][] = [[1, want([dns.expect, drain.fallback])], ...(dns.expect6 ? [[28, want([dns.expect6, drain.fallback6])] as [QType, Buffer[]]] : [])];
    for (const [qtype, expect] of asks) {
      const q = dnsQuery(0, dns.name, qtype);
      this.queries.push({ qtype, tcp: false, msg: q, idAt: 0, expect });
      this.queries.push({ qtype, tcp: true, msg: Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]), idAt: 2, expect });
    }
    const tcps = this.queries.filter((q) => q.tcp);
    this.tcpAll = Buffer.concat(tcps.map((q) => q.msg));
    let at = 0;
    for (const q of tcps) {
      const len = q.msg.length;
      q.msg = this.tcpAll.subarray(at, at + len);
      at += len;
    }
    this.open = this.queries.map(() => false);
  }

  /** Starts a round: every query once, on its kept socket. */
  probe(): void {
    this.base = (this.base + this.queries.length) & 0xffff;
    this.running = true;
    this.left = this.queries.length;
    for (let i = 0; i < this.queries.length; i++) {
      const q = this.queries[i]!;
      q.msg.writeUInt16BE((this.base + i) & 0xffff, q.idAt);
      this.open[i] = true;
    }
    this.tcpSocket().write(this.tcpAll);
    for (const q of this.queries) if (!q.tcp && this.running) this.sendUdp(q.msg);
  }

  /** The round's end: its result once, to the checker. */
  private finish(ok: boolean): void {
    if (!this.running) return;
    this.running = false;
    this.open.fill(false);
    this.onResult(ok);
  }

  /** The round's time is up: what is still open failed, and its socket is not reused. */
  expire(): void {
    if (!this.running) return;
    this.queries.forEach((q, i) => {
      if (!this.open[i]) return;
      if (q.tcp) this.dropTcp();
      else this.dropUdp();
    });
    this.finish(false);
  }

  /** An answer on either transport: settles its query if it is one of this round's. */
  private settle(msg: Buffer, tcp: boolean): void {
    if (!this.running || msg.length < 2) return;
    const i = (msg.readUInt16BE(0) - this.base) & 0xffff;
    const q = this.queries[i];
    if (!q || q.tcp !== tcp || !this.open[i]) return;
    this.open[i] = false;
    if (!answerMatches(msg, (this.base + i) & 0xffff, q.qtype, q.expect)) this.finish(false);
    else if (--this.left === 0) this.finish(true);
  }

  /** Fails the open queries of one transport at once (its socket died), not at the round's end. */
  private failOpen(tcp: boolean): void {
    if (this.queries.some((q, i) => q.tcp === tcp && this.open[i])) this.finish(false);
  }

  /** A connected UDP socket: a dead server's ICMP port-unreachable then fails the query at once. */
  private sendUdp(msg: Buffer): void {
    if (this.udp && this.udpReady) return void this.udp.send(msg);
    this.udpBacklog.push(msg);
    if (this.udp) return;
    const s = createSocket(net.isIPv6(this.server) ? 'udp6' : 'udp4');
    this.udp = s;
    s.on('message', (m) => this.settle(m, false));
    s.on('error', () => {
      if (this.udp === s) {
        this.dropUdp();
        this.failOpen(false);
      } else closeQuietly(s);
    });
    // Bound to the service address first (see the header), then connected.
    s.bind({ address: this.server, port: 0 }, () => {
      if (this.udp !== s) return;
      s.connect(this.port, this.server, () => {
        if (this.udp !== s) return;
        this.udpReady = true;
        for (const m of this.udpBacklog.splice(0)) s.send(m);
      });
    });
  }

  private dropUdp(): void {
    if (this.udp) closeQuietly(this.udp);
    this.udp = undefined;
    this.udpReady = false;
    this.udpBacklog.length = 0;
  }

  private tcpSocket(): net.Socket {
    if (this.tcp) return this.tcp;
    const s = net.connect({ host: this.server, port: this.port, localAddress: this.server });
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => {
      let buf = this.tcpBuf ? Buffer.concat([this.tcpBuf, d]) : d;
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        this.settle(buf.subarray(2, 2 + len), true);
        buf = buf.subarray(2 + len);
      }
      this.tcpBuf = buf.length > 0 ? buf : undefined;
    });
    const drop = () => {
      if (this.tcp === s) {
        this.dropTcp();
        // Queries sent on it get no answer now: they fail at once, not at the round's end.
        this.failOpen(true);
      }
      s.destroy();
    };
    s.on('error', drop);
    s.on('close', drop);
    this.tcp = s;
    return s;
  }

  private dropTcp(): void {
    this.tcp?.destroy();
    this.tcp = undefined;
    this.tcpBuf = undefined;
  }

  close(): void {
    this.running = false;
    this.dropUdp();
    this.dropTcp();
  }
}
