// @ts-check
// anycdn-healthcheck: the anycast health checker of a dns host, shipped byte for byte in the
// host's bundle and run by Debian's `nodejs` (18 or newer). No dependencies, and no process per
// probe: it holds its sockets (DNS over UDP and TCP to the local server, HTTP keep-alive to the
// image VIP) and times each probe from the query sent to the answer received, so a slow process
// start on a loaded host never counts against a healthy site.
//
// Each anycast prefix is judged on its own. The service addresses stay on lo; what moves is the
// covering prefix (its network address with the prefix length, such as 192.0.2.0/24 on lo), which
// bird's direct protocol picks up and announces. Verdicts, each with rise/fall hysteresis: DNS per
// prefix (the local server answers the image host with this site's addresses, over UDP and TCP, at
// each of the prefix's service addresses) and the image path (the VIP serves the health path, over
// each family the VIP has).
//   DNS down at a prefix             -> that prefix withdrawn: its covering prefixes leave lo, bird
//                                       stops announcing them; the other prefixes stay (fail fast,
//                                       and the checker's death withdraws all through the unit's
//                                       ExecStopPost)
//   DNS up, image path down          -> "deprefer" (default): still announced, with AS-path
//                                       prepends and the graceful-shutdown community, so traffic
//                                       prefers any healthy site but still lands here if none is;
//                                       "withdraw": withdrawn as above
//   both up                          -> announced
// It changes the lo addresses (one `ip -batch`) and tells bird (its control socket, no process)
// only on a transition, and puts the service addresses on lo once at start.
// Draining (drain.drained in the config, or the drain request file that `anycdn drain` writes)
// applies to every prefix of the site at once:
//   -> draining: still announced, with the graceful-shutdown community (65535:0), so upstreams
//      move traffic away first; for a site drain, the local Knot answers the image host with the
//      fallback site's VIPs (a zone change through knotc), for resolvers that still reach it
//   -> drained, drain.withdrawAfterSec later: withdrawn (a prefix that was not announced when the
//      drain began goes straight to drained: a drain never announces anything)
//   The request file gone (`anycdn undrain`): Knot reloads the rendered zone, and the checker
//   announces each prefix again as its verdicts say.
// Knot (knotc) is told only on a transition; reading the request file each probe interval is one read.
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { pathToFileURL } from 'node:url';

/**
 * @typedef {{ name: string, addresses: string[], prefixes: string[] }} AnycastGroup
 * @typedef {{
 *   intervalMs: number, timeoutMs: number, fall: number, rise: number,
 *   dns: { port: number, name: string, expect: string, expect6?: string },
 *   http: { url: string, url6?: string },
 *   anycast: AnycastGroup[],
 *   onImagePathDown: 'deprefer' | 'withdraw',
 *   bird?: { socket: string, stateFile: string },
 *   drain?: DrainConfig,
 *   statusFile?: string,
 *   status?: { address: string, port: number, path: string },
 *   metrics?: { path: string, allowFrom: string[] },
 *   ipCommand?: string,
 * }} Config
 * @typedef {{
 *   requestFile: string, withdrawAfterSec: number, drained: DrainScope | 'none',
 *   fallback?: string, fallback6?: string,
 *   knot?: { knotc: string, conf: string, zone: string, name: string, ttlSec: number },
 * }} DrainConfig
 * @typedef {'site' | 'host'} DrainScope
 * @typedef {'withdrawn' | 'depreferred' | 'announced' | 'draining' | 'drained'} Announce
 */

const log = (/** @type {string} */ msg) => process.stderr.write(`anycdn-healthcheck: ${msg}\n`);

function isPrefix(/** @type {unknown} */ p) {
  if (typeof p !== 'string') return false;
  const [addr, len, rest] = p.split('/');
  const family = net.isIP(addr ?? '');
  return family !== 0 && rest === undefined && /^\d{1,3}$/.test(len ?? '') && Number(len) <= (family === 4 ? 32 : 128);
}

/** Who may read /metrics: monitoring.scrapeFrom. */
export function allowList(/** @type {string[]} */ prefixes) {
  const list = new net.BlockList();
  for (const p of prefixes) {
    const [addr, len] = p.split('/');
    list.addSubnet(/** @type {string} */ (addr), Number(len), net.isIP(/** @type {string} */ (addr)) === 4 ? 'ipv4' : 'ipv6');
  }
  return (/** @type {string | undefined} */ address) => {
    if (!address) return false;
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
    return v4 ? list.check(v4, 'ipv4') : list.check(address, net.isIP(address) === 4 ? 'ipv4' : 'ipv6');
  };
}

/** Every announcement state, in the order the metrics list them. */
const ANNOUNCE_STATES = /** @type {Announce[]} */ (['announced', 'depreferred', 'withdrawn', 'draining', 'drained']);

/**
 * The checker's state in Prometheus' text format: the overall state (the worst prefix's) and each
 * prefix's, with the drain states, so alerts can tell a deliberate drain from a failure.
 */
export function metricsText(/** @type {{ state: Announce, prefixes: { name: string, state: Announce }[], dnsUp: boolean, imagePathUp: boolean, transitions: number }} */ m) {
  return [
    '# HELP anycdn_anycast_state 1 for the announcement state the checker is in (the worst prefix\'s): announced, depreferred, withdrawn, draining or drained.',
    '# TYPE anycdn_anycast_state gauge',
    ...ANNOUNCE_STATES.map((s) => `anycdn_anycast_state{state="${s}"} ${m.state === s ? 1 : 0}`),
    '# HELP anycdn_anycast_prefix_state 1 for the announcement state of each anycast prefix (by its model name).',
    '# TYPE anycdn_anycast_prefix_state gauge',
    ...m.prefixes.flatMap((p) => ANNOUNCE_STATES.map((s) => `anycdn_anycast_prefix_state{prefix="${p.name}",state="${s}"} ${p.state === s ? 1 : 0}`)),
    '# HELP anycdn_healthcheck_up 1 while the probe\'s verdict (with rise/fall) is up.',
    '# TYPE anycdn_healthcheck_up gauge',
    `anycdn_healthcheck_up{probe="dns"} ${m.dnsUp ? 1 : 0}`,
    `anycdn_healthcheck_up{probe="image_path"} ${m.imagePathUp ? 1 : 0}`,
    '# HELP anycdn_anycast_transitions_total Changes of the announcement state since the checker started.',
    '# TYPE anycdn_anycast_transitions_total counter',
    `anycdn_anycast_transitions_total ${m.transitions}`,
    '',
  ].join('\n');
}

/** Reads and checks the config; throws an Error whose message names the bad field. */
export function parseConfig(/** @type {string} */ text) {
  /** @type {any} */
  const c = JSON.parse(text);
  const bad = (/** @type {string} */ field, /** @type {string} */ want) => {
    throw new Error(`${field}: must be ${want}, got ${JSON.stringify(field.split('.').reduce((o, k) => (o == null ? o : o[k]), c))}`);
  };
  for (const k of ['intervalMs', 'timeoutMs', 'fall', 'rise']) if (!Number.isInteger(c[k]) || c[k] < 1) bad(k, 'a positive integer');
  if (typeof c.dns !== 'object' || c.dns === null) bad('dns', 'an object');
  if (!Number.isInteger(c.dns.port) || c.dns.port < 1 || c.dns.port > 65535) bad('dns.port', 'a port number');
  if (typeof c.dns.name !== 'string' || !/^[A-Za-z0-9.-]{1,253}$/.test(c.dns.name)) bad('dns.name', 'a DNS name');
  if (!net.isIPv4(c.dns.expect)) bad('dns.expect', 'an IPv4 address');
  if (c.dns.expect6 !== undefined && !net.isIPv6(c.dns.expect6)) bad('dns.expect6', 'an IPv6 address');
  if (typeof c.http !== 'object' || c.http === null || typeof c.http.url !== 'string' || !/^http:\/\//.test(c.http.url)) bad('http.url', 'an http:// URL');
  if (c.http.url6 !== undefined && (typeof c.http.url6 !== 'string' || !/^http:\/\/\[/.test(c.http.url6))) bad('http.url6', 'an http://[IPv6]/ URL');
  const cidr = (/** @type {unknown} */ p) => typeof p === 'string' && /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(p) && net.isIP(p.split('/')[0] ?? '') !== 0;
  const group = (/** @type {any} */ g) =>
    typeof g === 'object' && g !== null && typeof g.name === 'string' && /^[a-z][a-z0-9-]{0,31}$/.test(g.name) &&
    Array.isArray(g.addresses) && g.addresses.length > 0 && g.addresses.every(cidr) && Array.isArray(g.prefixes) && g.prefixes.length > 0 && g.prefixes.every(cidr);
  if (!Array.isArray(c.anycast) || c.anycast.length === 0 || !c.anycast.every(group)) {
    bad('anycast', 'a non-empty list of {name, addresses, prefixes} (addresses and prefixes in CIDR form)');
  }
  if (c.onImagePathDown !== 'deprefer' && c.onImagePathDown !== 'withdraw') bad('onImagePathDown', '"deprefer" or "withdraw"');
  if (c.bird !== undefined && (typeof c.bird?.socket !== 'string' || typeof c.bird?.stateFile !== 'string')) bad('bird', 'an object with socket and stateFile');
  if (c.drain !== undefined) {
    const d = c.drain;
    if (typeof d?.requestFile !== 'string' || !d.requestFile.startsWith('/')) bad('drain.requestFile', 'an absolute path');
    if (!Number.isInteger(d.withdrawAfterSec) || d.withdrawAfterSec < 0) bad('drain.withdrawAfterSec', 'a whole number of seconds');
    if (!['site', 'host', 'none'].includes(d.drained)) bad('drain.drained', '"site", "host" or "none"');
    if (d.fallback !== undefined && net.isIP(d.fallback) === 0) bad('drain.fallback', 'an IP address');
    if (d.fallback6 !== undefined && !net.isIPv6(d.fallback6)) bad('drain.fallback6', 'an IPv6 address');
    if (d.knot !== undefined && (typeof d.knot?.knotc !== 'string' || typeof d.knot.conf !== 'string' || typeof d.knot.zone !== 'string' || typeof d.knot.name !== 'string' || !Number.isInteger(d.knot.ttlSec))) {
      bad('drain.knot', 'an object with knotc, conf, zone, name and ttlSec');
    }
  }
  if (c.status !== undefined) {
    if (net.isIP(c.status?.address) === 0) bad('status.address', 'an IP address');
    if (!Number.isInteger(c.status.port) || c.status.port < 1 || c.status.port > 65535) bad('status.port', 'a port number');
    if (typeof c.status.path !== 'string' || !c.status.path.startsWith('/')) bad('status.path', 'an absolute URL path');
  }
  if (c.metrics !== undefined) {
    if (c.status === undefined) bad('metrics', 'absent without status (it is served on the status endpoint)');
    if (typeof c.metrics?.path !== 'string' || !c.metrics.path.startsWith('/') || c.metrics.path === c.status.path) bad('metrics.path', 'an absolute URL path other than status.path');
    if (!Array.isArray(c.metrics.allowFrom) || c.metrics.allowFrom.length === 0 || !c.metrics.allowFrom.every(isPrefix)) bad('metrics.allowFrom', 'a non-empty list of prefixes');
  }
  return /** @type {Config} */ (c);
}

// ------------------------------------------------------------------------------------- DNS

/** A DNS query for `name` (type A or AAAA) with message id `id`. */
export function dnsQuery(/** @type {number} */ id, /** @type {string} */ name, /** @type {1 | 28} */ qtype) {
  const labels = name.replace(/\.$/, '').split('.');
  const parts = [Buffer.from([id >> 8, id & 0xff, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'ascii'));
  parts.push(Buffer.from([0, 0, qtype, 0, 1]));
  return Buffer.concat(parts);
}

/** The addresses of type `qtype` in the answer section of a response to query `id`, or undefined. */
export function dnsAnswers(/** @type {Buffer} */ msg, /** @type {number} */ id, /** @type {1 | 28} */ qtype) {
  if (msg.length < 12 || msg.readUInt16BE(0) !== id || (msg.readUInt8(2) & 0x80) === 0 || (msg.readUInt8(3) & 0x0f) !== 0) return undefined;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let o = 12;
  const skipName = () => {
    for (;;) {
      if (o >= msg.length) throw new RangeError('truncated');
      const len = msg.readUInt8(o);
      if ((len & 0xc0) === 0xc0) return void (o += 2);
      o += 1 + len;
      if (len === 0) return;
    }
  };
  try {
    for (let i = 0; i < qd; i++) (skipName(), (o += 4));
    /** @type {string[]} */
    const out = [];
    for (let i = 0; i < an; i++) {
      skipName();
      const type = msg.readUInt16BE(o);
      const rdlen = msg.readUInt16BE(o + 8);
      const rdata = msg.subarray(o + 10, o + 10 + rdlen);
      if (rdata.length !== rdlen) return undefined;
      if (type === qtype && qtype === 1 && rdlen === 4) out.push([...rdata].join('.'));
      if (type === qtype && qtype === 28 && rdlen === 16) out.push(ipv6Text(rdata));
      o += 10 + rdlen;
    }
    return out;
  } catch {
    return undefined;
  }
}

function ipv6Text(/** @type {Buffer} */ b) {
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return canonicalIp(groups.join(':'));
}

/** An address in one spelling (IPv6 fully expanded, lower case), so answers compare exactly. */
export function canonicalIp(/** @type {string} */ a) {
  if (!net.isIPv6(a)) return a;
  const [head = '', tail] = a.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/** Closes a UDP socket that may be closed already (an error and a timeout can both drop it). */
function closeQuietly(/** @type {import('node:dgram').Socket} */ s) {
  try {
    s.close();
  } catch {
    // already closed
  }
}

/** An address as the RDATA of its A or AAAA record carries it (4 or 16 bytes). */
export function addressBytes(/** @type {string} */ a) {
  if (net.isIPv4(a)) return Buffer.from(a.split('.').map(Number));
  const b = Buffer.alloc(16);
  canonicalIp(a)
    .split(':')
    .forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), 2 * i));
  return b;
}

/** The offset just past the DNS name at `o`, or -1 when the message ends inside it. */
function skipName(/** @type {Buffer} */ msg, /** @type {number} */ o) {
  for (;;) {
    if (o >= msg.length) return -1;
    const len = /** @type {number} */ (msg[o]);
    if ((len & 0xc0) === 0xc0) return o + 2;
    o += 1 + len;
    if (len === 0) return o;
  }
}

/**
 * True when `msg` answers query `id` of type `qtype` with exactly one address of that type, and it
 * is one of `expect` (as addressBytes gives them). It reads the message in place and allocates
 * nothing: it runs for every query the checker sends.
 */
export function answerMatches(/** @type {Buffer} */ msg, /** @type {number} */ id, /** @type {1 | 28} */ qtype, /** @type {Buffer[]} */ expect) {
  if (msg.length < 12 || msg.readUInt16BE(0) !== id || (/** @type {number} */ (msg[2]) & 0x80) === 0 || (/** @type {number} */ (msg[3]) & 0x0f) !== 0) return false;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  const size = qtype === 1 ? 4 : 16;
  let o = 12;
  for (let i = 0; i < qd; i++) {
    o = skipName(msg, o);
    if (o < 0) return false;
    o += 4;
  }
  let count = 0;
  let at = 0;
  for (let i = 0; i < an; i++) {
    o = skipName(msg, o);
    if (o < 0 || o + 10 > msg.length) return false;
    const rdlen = msg.readUInt16BE(o + 8);
    if (o + 10 + rdlen > msg.length) return false;
    if (msg.readUInt16BE(o) === qtype && rdlen === size) {
      count++;
      at = o + 10;
    }
    o += 10 + rdlen;
  }
  if (count !== 1) return false;
  for (const e of expect) if (e.length === size && msg.compare(e, 0, size, at, at + size) === 0) return true;
  return false;
}

/**
 * The DNS prober of one service address: one connected UDP socket and one TCP connection, both
 * kept across rounds. Each round asks for A (and AAAA when the site has an IPv6 VIP) over both
 * and wants exactly this site's addresses. The queries are built once and a round rewrites only
 * their message ids; answers are checked in place; the checker's one timer per round ends what is
 * still open (expire). A round allocates next to nothing: at 150 ms intervals the checker's CPU
 * is what these rounds cost.
 */
class DnsProber {
  /**
   * @param {Config['dns']} dns @param {string} server
   * @param {{ fallback?: string, fallback6?: string }} drain also good answers: a draining site's DNS answers with them
   * @param {(ok: boolean) => void} onResult hears each round's result, once
   */
  constructor(dns, server, drain, onResult) {
    this.server = server;
    this.port = dns.port;
    this.onResult = onResult;
    const want = (/** @type {(string | undefined)[]} */ list) => [...new Set(list.filter((a) => a !== undefined).map((a) => canonicalIp(/** @type {string} */ (a))))].map(addressBytes);
    /** @type {{ qtype: 1 | 28, tcp: boolean, msg: Buffer, idAt: number, expect: Buffer[] }[]} */
    this.queries = [];
    /** @type {[1 | 28, Buffer[]][]} */
    const asks = [[1, want([dns.expect, drain.fallback])], ...(dns.expect6 ? [/** @type {[28, Buffer[]]} */ ([28, want([dns.expect6, drain.fallback6])])] : [])];
    for (const [qtype, expect] of asks) {
      const q = dnsQuery(0, dns.name, qtype);
      this.queries.push({ qtype, tcp: false, msg: q, idAt: 0, expect });
      this.queries.push({ qtype, tcp: true, msg: Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]), idAt: 2, expect });
    }
    // The TCP queries of a round go out in one write (one segment): each is a view into it.
    const tcps = this.queries.filter((q) => q.tcp);
    this.tcpAll = Buffer.concat(tcps.map((q) => q.msg));
    let at = 0;
    for (const q of tcps) {
      q.msg = this.tcpAll.subarray(at, at + q.msg.length);
      at += q.msg.length;
    }
    /** Which queries of this round are still unanswered. */
    this.open = this.queries.map(() => false);
    this.left = 0;
    this.running = false;
    this.base = Math.floor(Math.random() * 0xffff);
    /** @type {import('node:dgram').Socket | undefined} */
    this.udp = undefined;
    this.udpReady = false;
    /** @type {Buffer[]} UDP queries of a round that began before the socket was connected */
    this.udpBacklog = [];
    /** @type {net.Socket | undefined} */
    this.tcp = undefined;
    /** @type {Buffer | undefined} */
    this.tcpBuf = undefined;
  }

  /** Starts a round: every query once, on its kept socket. */
  probe() {
    this.base = (this.base + this.queries.length) & 0xffff;
    this.running = true;
    this.left = this.queries.length;
    for (let i = 0; i < this.queries.length; i++) {
      const q = /** @type {(typeof this.queries)[number]} */ (this.queries[i]);
      q.msg.writeUInt16BE((this.base + i) & 0xffff, q.idAt);
      this.open[i] = true;
    }
    this.tcpSocket().write(this.tcpAll);
    for (const q of this.queries) if (!q.tcp && this.running) this.sendUdp(q.msg);
  }

  /** The round's end: its result once, to the checker. */
  finish(/** @type {boolean} */ ok) {
    if (!this.running) return;
    this.running = false;
    this.open.fill(false);
    this.onResult(ok);
  }

  /** The round's time is up: what is still open failed, and its socket is not reused. */
  expire() {
    if (!this.running) return;
    this.queries.forEach((q, i) => {
      if (!this.open[i]) return;
      if (q.tcp) this.dropTcp();
      else this.dropUdp();
    });
    this.finish(false);
  }

  /** An answer on either transport: settles its query if it is one of this round's. */
  settle(/** @type {Buffer} */ msg, /** @type {boolean} */ tcp) {
    if (!this.running || msg.length < 2) return;
    const i = (msg.readUInt16BE(0) - this.base) & 0xffff;
    const q = this.queries[i];
    if (!q || q.tcp !== tcp || !this.open[i]) return;
    this.open[i] = false;
    if (!answerMatches(msg, (this.base + i) & 0xffff, q.qtype, q.expect)) this.finish(false);
    else if (--this.left === 0) this.finish(true);
  }

  /** Fails the open queries of one transport at once (its socket died), not at the round's end. */
  failOpen(/** @type {boolean} */ tcp) {
    if (this.queries.some((q, i) => q.tcp === tcp && this.open[i])) this.finish(false);
  }

  /** A connected UDP socket: a dead server's ICMP port-unreachable then fails the query at once. */
  sendUdp(/** @type {Buffer} */ msg) {
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
    s.connect(this.port, this.server, () => {
      if (this.udp !== s) return;
      this.udpReady = true;
      for (const m of this.udpBacklog.splice(0)) s.send(m);
    });
  }

  dropUdp() {
    if (this.udp) closeQuietly(this.udp);
    this.udp = undefined;
    this.udpReady = false;
    this.udpBacklog.length = 0;
  }

  tcpSocket() {
    if (this.tcp) return this.tcp;
    const s = net.connect({ host: this.server, port: this.port });
    s.setNoDelay(true);
    s.on('data', (/** @type {Buffer} */ d) => {
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

  dropTcp() {
    this.tcp?.destroy();
    this.tcp = undefined;
    this.tcpBuf = undefined;
  }

  close() {
    this.running = false;
    this.dropUdp();
    this.dropTcp();
  }
}

// ------------------------------------------------------------------------------------ HTTP

/**
 * The image-path prober: GET the health path on the VIP over one keep-alive connection. A
 * minimal HTTP/1.1 client (status line, Content-Length or chunked, or a close-delimited body):
 * Node's http module costs about as much CPU again per probe, and this is all the checker needs.
 * Rounds as DnsProber's: probe() sends, the result goes to onResult once, expire() ends it.
 */
class HttpProber {
  constructor(/** @type {string} */ url, /** @type {(ok: boolean) => void} */ onResult) {
    const u = new URL(url);
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 80);
    this.request = Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: anycdn-healthcheck\r\n\r\n`, 'latin1');
    this.onResult = onResult;
    /** @type {net.Socket | undefined} */
    this.sock = undefined;
    this.buf = '';
    this.running = false;
  }

  socket() {
    if (this.sock) return this.sock;
    const s = net.connect({ host: this.host, port: this.port });
    s.setNoDelay(true);
    s.on('data', (d) => {
      this.buf += d.toString('latin1');
      this.parse(false);
    });
    const drop = () => {
      if (this.sock === s) {
        this.parse(true);
        this.sock = undefined;
        this.buf = '';
        this.finish(false);
      }
      s.destroy();
    };
    s.on('error', drop);
    s.on('close', drop);
    this.sock = s;
    return s;
  }

  /** Settles the round once a whole response is in (or the connection closed after one). */
  parse(/** @type {boolean} */ closed) {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0 || !this.running) return;
    const head = this.buf.slice(0, end).toLowerCase();
    const status = /^http\/1\.[01] (\d{3})/.exec(head);
    const length = /\r\ncontent-length: *(\d+)/.exec(head);
    const chunked = /\r\ntransfer-encoding: *chunked/.test(head);
    const body = this.buf.slice(end + 4);
    let rest;
    if (length) rest = body.length >= Number(length[1]) ? body.slice(Number(length[1])) : undefined;
    else if (chunked) rest = /(^|\r\n)0\r\n\r\n/.test(body) ? '' : undefined;
    else rest = closed ? '' : undefined; // close-delimited
    if (rest === undefined) return;
    this.buf = rest;
    this.finish(status?.[1] === '200');
    if (/\r\nconnection: *close/.test(head)) this.sock?.destroy();
  }

  finish(/** @type {boolean} */ ok) {
    if (!this.running) return;
    this.running = false;
    this.onResult(ok);
  }

  probe() {
    this.running = true;
    this.buf = '';
    this.socket().write(this.request);
  }

  /** No whole answer in time: a failed probe, and the connection is not reused. */
  expire() {
    if (!this.running) return;
    this.sock?.destroy();
    this.sock = undefined;
    this.buf = '';
    this.finish(false);
  }

  close() {
    this.running = false;
    this.sock?.destroy();
  }
}

// ------------------------------------------------------------------------------- verdicts

/**
 * A rise/fall verdict: down at start, up after `rise` good probes, down after `fall` bad ones.
 * It is `known` once it has been up or seen `fall` bad probes in a row: until then a down image
 * path is not yet a sick one, so a starting checker does not deprefer on its way to announcing.
 */
export class Verdict {
  constructor(/** @type {number} */ rise, /** @type {number} */ fall) {
    this.rise = rise;
    this.fall = fall;
    this.up = false;
    this.known = false;
    this.good = 0;
    this.bad = 0;
  }

  /** Feeds one probe result; returns the verdict after it. */
  feed(/** @type {boolean} */ ok) {
    if (ok) {
      this.good++;
      this.bad = 0;
      if (!this.up && this.good >= this.rise) this.up = true;
    } else {
      this.bad++;
      this.good = 0;
      if (this.up && this.bad >= this.fall) this.up = false;
    }
    if (this.up || this.bad >= this.fall) this.known = true;
    return this.up;
  }
}

/** What to announce for a pair of verdicts (an image path not yet known counts as no decision). */
export function target(/** @type {boolean} */ dnsUp, /** @type {boolean | undefined} */ imageUp, /** @type {Config['onImagePathDown']} */ policy) {
  if (!dnsUp || imageUp === undefined) return /** @type {Announce} */ ('withdrawn');
  if (imageUp) return /** @type {Announce} */ ('announced');
  return /** @type {Announce} */ (policy === 'deprefer' ? 'depreferred' : 'withdrawn');
}

/**
 * What to announce while a drain runs: `base` (the verdicts' target) when none does; "draining"
 * (announced with the graceful-shutdown community) until the delay is over, but only for a route
 * that is out there now and whose DNS still works; else "drained" (withdrawn).
 */
export function drainTarget(/** @type {Announce} */ base, /** @type {Announce} */ current, /** @type {'none' | 'draining' | 'done'} */ phase) {
  if (phase === 'none') return base;
  const out = current === 'announced' || current === 'depreferred' || current === 'draining';
  return /** @type {Announce} */ (phase === 'draining' && out && base !== 'withdrawn' ? 'draining' : 'drained');
}

/** The drain asked for: the config's (a model drain) or the request file's, site before host. */
export function drainScope(/** @type {DrainConfig['drained']} */ configured, /** @type {string | undefined} */ requested) {
  const r = requested?.trim();
  if (configured === 'site' || r === 'site') return /** @type {DrainScope} */ ('site');
  if (configured === 'host' || r !== undefined) return /** @type {DrainScope} */ ('host');
  return undefined;
}

/** The request file's content and age, or undefined when there is none (one read, no process). */
function readRequest(/** @type {string} */ path) {
  try {
    // Usually there is none: a stat that does not throw, not a read that builds an error each time.
    const st = statSync(path, { throwIfNoEntry: false });
    return st ? { text: readFileSync(path, 'utf8'), mtimeMs: st.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------- actions

/** Runs `ip -force -batch -` with `lines` on stdin: one process for the whole change. */
function ipBatch(/** @type {string} */ ip, /** @type {string[]} */ lines) {
  return new Promise((resolve) => {
    const child = execFile(ip, ['-force', '-batch', '-'], { timeout: 5000 }, (err, _out, stderr) => {
      // `addr del` of an address that is not there is not an error worth a log line.
      const real = stderr.split('\n').filter((l) => l && !/Cannot assign requested address|Command failed -:\d+/.test(l));
      if (err && real.length > 0) log(`ip: ${real.join(' | ')}`);
      resolve(!err || real.length === 0);
    });
    child.stdin?.end(lines.map((l) => `${l}\n`).join(''));
  });
}

/** Runs knotc commands one after another (a zone transaction); resolves true when all succeed. */
async function knotc(/** @type {NonNullable<DrainConfig['knot']>} */ k, /** @type {string[][]} */ commands) {
  for (const args of commands) {
    const ok = await new Promise((resolve) => {
      execFile(k.knotc, ['-c', k.conf, ...args], { timeout: 5000 }, (err, _out, stderr) => {
        if (err) log(`knotc ${args.join(' ')}: ${(stderr || err.message).trim()}`);
        resolve(!err);
      });
    });
    if (!ok) {
      if (args[0] !== 'zone-begin' && args[0] !== 'zone-reload') await new Promise((r) => execFile(k.knotc, ['-c', k.conf, 'zone-abort', k.zone], { timeout: 5000 }, () => r(undefined)));
      return false;
    }
  }
  return true;
}

/** The zone change that makes Knot answer the image host with the fallback site's VIP. */
function knotFallbackCommands(/** @type {NonNullable<DrainConfig['knot']>} */ k, /** @type {string[]} */ fallbacks) {
  const owner = `${k.name}.`;
  const sets = fallbacks.flatMap((fallback) => {
    const type = net.isIPv6(fallback) ? 'AAAA' : 'A';
    return [
      ['zone-unset', k.zone, owner, type],
      ['zone-set', k.zone, owner, String(k.ttlSec), type, fallback],
    ];
  });
  return [['zone-begin', k.zone], ...sets, ['zone-commit', k.zone]];
}

/** Asks bird to re-read its configuration over its control socket; resolves true on success. */
export function birdConfigure(/** @type {string} */ socketPath, timeoutMs = 5000) {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    let buf = '';
    let sent = false;
    const finish = (/** @type {boolean} */ ok, /** @type {string} */ why) => {
      clearTimeout(timer);
      s.destroy();
      if (!ok) log(`bird configure failed: ${why}`);
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false, 'no answer'), timeoutMs);
    s.on('error', (e) => finish(false, e.message));
    s.on('data', (d) => {
      buf += d.toString();
      // 0001: ready (greeting), 0003: reconfigured, 0004: reconfiguration in progress (queued),
      // 0018: already in that state; 8xxx/9xxx: errors.
      if (!sent && /^0001 /m.test(buf)) {
        sent = true;
        s.write('configure\n');
        return;
      }
      if (sent && /^000[34] |^0018 /m.test(buf)) finish(true, '');
      else if (/^[89]\d{3}[ -]/m.test(buf)) finish(false, buf.trim().replace(/\s+/g, ' '));
    });
  });
}

function writeAtomic(/** @type {string} */ path, /** @type {string} */ text) {
  writeFileSync(`${path}.new`, text);
  renameSync(`${path}.new`, path);
}

// ------------------------------------------------------------------------------------ run

/** The order of announce states, worst first: a site's overall state is its worst prefix's. */
const RANK = /** @type {Announce[]} */ (['withdrawn', 'drained', 'draining', 'depreferred', 'announced']);

/**
 * The checker. It changes lo and tells bird; `hooks.onState` hears the overall state (the worst
 * prefix's) and `hooks.onGroup` each prefix's. Returns a handle to stop it (it withdraws on stop).
 */
export function startChecker(
  /** @type {Config} */ c,
  /** @type {{ onState?: (s: Announce) => void, onGroup?: (name: string, s: Announce) => void }} */ hooks = {},
) {
  // A round's result per prefix: good once each of its probers' rounds is, bad at the first bad
  // one. `left` and `over` are reset each round, so a round allocates nothing here either.
  /** @typedef {{ verdict: Verdict, left: number, over: boolean, size: number }} Part */
  const part = (/** @type {number} */ size) => /** @type {Part} */ ({ verdict: new Verdict(c.rise, c.fall), left: size, over: true, size });
  // One prober per distinct service address, shared by the prefixes that use it: each address is
  // asked once per round over each transport, and every prefix behind it takes the result.
  /** @type {Map<string, { prober: DnsProber, parts: Part[] }>} */
  const byAddress = new Map();
  const drainAnswers = { fallback: c.drain?.fallback, fallback6: c.drain?.fallback6 };
  const groups = c.anycast.map((g) => {
    const addresses = [...new Set(g.addresses.map((a) => a.split('/')[0] ?? a))];
    const p = part(addresses.length);
    for (const a of addresses) {
      let entry = byAddress.get(a);
      if (!entry) {
        /** @type {{ prober: DnsProber, parts: Part[] }} */
        const e = { prober: /** @type {any} */ (undefined), parts: [] };
        e.prober = new DnsProber(c.dns, a, drainAnswers, (ok) => {
          for (const q of e.parts) partResult(q, ok);
        });
        byAddress.set(a, (entry = e));
      }
      entry.parts.push(p);
    }
    return { ...g, part: p, verdict: p.verdict, state: /** @type {Announce} */ ('withdrawn') };
  });
  const probers = [...byAddress.values()].map((e) => e.prober);
  const webPart = part(1 + (c.http.url6 ? 1 : 0));
  const webs = [c.http.url, ...(c.http.url6 ? [c.http.url6] : [])].map((u) => new HttpProber(u, (ok) => partResult(webPart, ok)));
  const webVerdict = webPart.verdict;
  const parts = [...groups.map((g) => g.part), webPart];
  const ip = c.ipCommand ?? '/usr/sbin/ip';
  const overall = () => RANK[Math.min(...groups.map((g) => RANK.indexOf(g.state)))] ?? 'withdrawn';
  let state = overall();
  let transitions = 0;
  /** What bird's announce file says (undefined: not written yet or bird not told). */
  let birdSays = /** @type {string | undefined} */ (undefined);
  let stopped = false;
  const onLo = (/** @type {Announce} */ s) => s === 'announced' || s === 'depreferred' || s === 'draining';

  /** What the announce file bird includes says, for each pair of flags (built once). */
  const BIRD_TEXT = [0, 1, 2, 3].map((k) => `define ANYCAST_DEPREFER = ${k & 1};\ndefine ANYCAST_DRAIN = ${k >> 1};\n`);
  const birdText = (/** @type {boolean} */ deprefer, /** @type {boolean} */ drain) => /** @type {string} */ (BIRD_TEXT[(deprefer ? 1 : 0) + (drain ? 2 : 0)]);
  /** The announce file bird includes, and `configure` over bird's socket when it changed. */
  const tellBird = async (/** @type {Announce[]} */ next) => {
    // One flag each for the whole site: every per-peer export filter applies them to every prefix.
    const says = birdText(next.includes('depreferred'), next.includes('draining'));
    if (!c.bird || birdSays === says) return true;
    writeAtomic(c.bird.stateFile, `# written by anycdn-healthcheck on every change of what it announces\n${says}`);
    const ok = await birdConfigure(c.bird.socket);
    if (ok) birdSays = says;
    return ok;
  };

  // Draining: when it began (epoch ms; 0: before this process, so over), its scope, and whether
  // Knot answers with the fallback now.
  /** @type {DrainScope | undefined} */
  let scope;
  let drainSince = 0;
  let knotFallback = false;
  const initial = c.drain ? readRequest(c.drain.requestFile) : undefined;
  if (c.drain) {
    scope = drainScope(c.drain.drained, initial?.text);
    // A request made before this process started keeps its clock; a model drain found at start
    // is over: the unit withdrew before starting, and a drain never announces again.
    if (scope) drainSince = initial ? initial.mtimeMs : 0;
  }
  const phase = () => {
    if (!c.drain || !scope) return /** @type {const} */ ('none');
    return Date.now() - drainSince >= c.drain.withdrawAfterSec * 1000 ? /** @type {const} */ ('done') : /** @type {const} */ ('draining');
  };
  /** Reads the request (and a reloaded config) and notes a drain that begins or ends. */
  const watchDrain = () => {
    if (!c.drain) return;
    const next = drainScope(c.drain.drained, readRequest(c.drain.requestFile)?.text);
    if (next && !scope) drainSince = Date.now();
    if (next !== scope) log(next ? `drain (${next}) requested: graceful shutdown, withdrawn in ${c.drain.withdrawAfterSec} s` : 'drain ended');
    scope = next;
  };
  /** Knot answers with the fallback exactly while a site drain runs. */
  const steerKnot = async () => {
    const k = c.drain?.knot;
    const fallbacks = [c.drain?.fallback, c.drain?.fallback6].filter((a) => a !== undefined);
    if (!k || fallbacks.length === 0) return;
    const want = scope === 'site';
    if (want === knotFallback) return;
    const ok = await knotc(k, want ? knotFallbackCommands(k, fallbacks) : [['zone-reload', k.zone]]);
    if (ok) {
      knotFallback = want;
      log(want ? `dns: ${k.name} answers ${fallbacks.join(' ')} (the fallback site) while this site drains` : `dns: ${k.name} answers from the rendered zone again`);
    }
  };

  /** Moves every prefix to its next state: withdrawals first, then bird, then new announcements. */
  const apply = async (/** @type {Announce[]} */ next) => {
    const moving = groups.filter((g, i) => g.state !== next[i]);
    const gone = moving.filter((g) => onLo(g.state) && !onLo(next[groups.indexOf(g)] ?? 'withdrawn'));
    const coming = moving.filter((g) => !onLo(g.state) && onLo(next[groups.indexOf(g)] ?? 'withdrawn'));
    if (gone.length > 0) await ipBatch(ip, gone.flatMap((g) => g.prefixes.map((p) => `addr del ${p} dev lo`)));
    // The routes leave already tagged (depreferred, draining, or plain) before the prefixes appear on lo.
    if (next.some(onLo)) await tellBird(next);
    if (coming.length > 0) await ipBatch(ip, coming.flatMap((g) => g.prefixes.map((p) => `addr replace ${p} dev lo`)));
    for (const g of moving) {
      g.state = next[groups.indexOf(g)] ?? 'withdrawn';
      const verb = { withdrawn: 'withdraw', depreferred: 'deprefer', announced: 'announce', draining: 'drain (graceful shutdown)', drained: 'withdraw (drained)' }[g.state];
      log(`${verb} ${g.name}: ${g.prefixes.join(' ')} (dns ${g.verdict.up ? 'up' : 'down'}, image path ${webVerdict.up ? 'up' : 'down'})`);
      hooks.onGroup?.(g.name, g.state);
    }
    const now = overall();
    if (c.statusFile) writeAtomic(c.statusFile, `${now}\n`);
    if (now !== state) {
      state = now;
      transitions++;
      hooks.onState?.(state);
    }
  };

  /**
   * True when deciding now would change nothing: no decision in flight, Knot, every prefix and
   * bird as the verdicts want them. It allocates nothing, as it runs for every verdict of every
   * round; only a change goes through the queue below.
   */
  let deciding = 0;
  const nothingToDo = () => {
    if (deciding > 0) return false;
    if (c.drain?.knot && (c.drain.fallback !== undefined || c.drain.fallback6 !== undefined) && (scope === 'site') !== knotFallback) return false;
    const imageUp = webVerdict.known ? webVerdict.up : undefined;
    const drainPhase = phase();
    let on = false;
    let deprefer = false;
    let drain = false;
    for (const g of groups) {
      const n = drainTarget(target(g.verdict.up, imageUp, c.onImagePathDown), g.state, drainPhase);
      if (n !== g.state) return false;
      on ||= onLo(n);
      deprefer ||= n === 'depreferred';
      drain ||= n === 'draining';
    }
    return !on || !c.bird || birdSays === birdText(deprefer, drain);
  };

  // One change at a time, in the order the verdicts asked for them.
  let applying = Promise.resolve();
  const decide = () => {
    if (stopped || nothingToDo()) return applying;
    deciding++;
    applying = applying.then(async () => {
      try {
        await decideNow();
      } finally {
        deciding--;
      }
    });
    return applying;
  };
  const decideNow = async () => {
    {
      if (stopped) return;
      // DNS first: resolvers that still reach this site learn the fallback before routes move.
      await steerKnot();
      const imageUp = webVerdict.known ? webVerdict.up : undefined;
      const drainPhase = phase();
      // A drain applies to every prefix of the site; each prefix keeps its own verdicts.
      const next = groups.map((g) => drainTarget(target(g.verdict.up, imageUp, c.onImagePathDown), g.state, drainPhase));
      if (next.some((n, i) => n !== groups[i]?.state)) await apply(next);
      // A bird that could not be told (not up yet) is told again on the next probe.
      else if (next.some(onLo)) await tellBird(next);
    }
  };

  // One round per interval: every prober sends at once, one timer ends what is still open after
  // timeoutMs, and each verdict takes its round's result the moment it is in, so a refused DNS
  // query is acted on without waiting for a slow image path. The next round starts intervalMs
  // after this one ended and its changes were made.
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  /** @type {NodeJS.Timeout | undefined} */
  let expiry;
  let openParts = 0;
  const partResult = (/** @type {Part} */ p, /** @type {boolean} */ ok) => {
    if (p.over || (ok && --p.left > 0)) return;
    p.over = true;
    if (!stopped) {
      p.verdict.feed(ok);
      void decide();
    }
    if (--openParts === 0) {
      clearTimeout(expiry);
      void applying.then(() => {
        if (!stopped) timer = setTimeout(tick, c.intervalMs);
      });
    }
  };
  const expire = () => {
    for (const p of probers) p.expire();
    for (const w of webs) w.expire();
  };
  const tick = () => {
    if (stopped) return;
    // The drain request file: one stat per round.
    watchDrain();
    openParts = parts.length;
    for (const p of parts) {
      p.left = p.size;
      p.over = false;
    }
    expiry = setTimeout(expire, c.timeoutMs);
    for (const p of probers) p.probe();
    for (const w of webs) w.probe();
  };

  // The state over HTTP, for load balancers that poll rather than peer (Global Accelerator):
  // 200 only while announced plainly; with `metrics`, the state for Prometheus too, to the
  // scrape subnets only. A failed bind is logged and retried, never fatal.
  /** @type {http.Server | undefined} */
  let statusServer;
  /** @type {NodeJS.Timeout | undefined} */
  let statusRetry;
  const mayScrape = c.metrics ? allowList(c.metrics.allowFrom) : () => false;
  const serveStatus = (/** @type {NonNullable<Config['status']>} */ st) => {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') res.writeHead(405).end();
      else if (c.metrics && path === c.metrics.path) {
        if (!mayScrape(req.socket.remoteAddress)) res.writeHead(403).end();
        else res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'cache-control': 'no-store' }).end(metricsText({ state, prefixes: groups, dnsUp: groups.every((g) => g.verdict.up), imagePathUp: webVerdict.up, transitions }));
      } else if (path !== st.path) res.writeHead(404).end();
      else res.writeHead(state === 'announced' ? 200 : 503, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(`${state}\n`);
    });
    server.on('error', (e) => {
      log(`status endpoint ${st.address}:${st.port}: ${e.message}; retrying in 5 s`);
      server.close();
      if (!stopped) statusRetry = setTimeout(() => serveStatus(st), 5000);
    });
    server.listen(st.port, st.address);
    statusServer = server;
  };
  if (c.status) serveStatus(c.status);

  if (scope) log(`started drained (${scope}): ${phase() === 'done' ? 'stays withdrawn' : 'withdrawn; the drain began before this start'}`);
  log(
    `started: withdrawn until ${c.rise} good probes (dns ${c.dns.name} @${groups.flatMap((g) => g.addresses).join(' ')}, image path ${webs.length > 1 ? `${c.http.url} ${c.http.url6}` : c.http.url}, on image path down: ${c.onImagePathDown})`,
  );
  if (c.statusFile) writeAtomic(c.statusFile, `${state}\n`);
  // The service addresses stay on lo while the checker runs: each prefix's probes reach the local
  // server there whether or not the prefix is announced.
  const ready = ipBatch(ip, groups.flatMap((g) => g.addresses.map((a) => `addr replace ${a} dev lo`)));
  timer = setTimeout(() => void ready.then(() => (stopped ? undefined : tick())), 0);
  return {
    /** Stops probing and withdraws. */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(expiry);
      clearTimeout(statusRetry);
      statusServer?.close();
      await applying;
      for (const p of probers) p.close();
      for (const w of webs) w.close();
      if (groups.some((g) => onLo(g.state))) await apply(groups.map(() => /** @type {Announce} */ ('withdrawn')));
    },
    /** The overall state: the worst prefix's. */
    state: () => state,
    /** Each prefix's state, by name. */
    groups: () => Object.fromEntries(groups.map((g) => [g.name, g.state])),
    /**
     * Takes the drain settings of a reloaded config (SIGHUP): a model drain begins or ends, a new
     * delay, and Knot's settings for the next site drain (the answer's TTL). The request file and
     * the fallback answers the DNS probes accept are fixed at start (lib/plan/classify.ts knows).
     */
    reloadDrain(/** @type {DrainConfig | undefined} */ d) {
      if (d && c.drain) c.drain = { ...c.drain, drained: d.drained, withdrawAfterSec: d.withdrawAfterSec, ...(c.drain.knot && d.knot ? { knot: d.knot } : {}) };
      watchDrain();
      void decide();
    },
  };
}

async function main(/** @type {string[]} */ argv) {
  const checkOnly = argv[0] === '--check-config';
  const file = checkOnly ? argv[1] : argv[0];
  if (!file) {
    process.stderr.write('usage: anycdn-healthcheck [--check-config] CONFIG.json\n');
    process.exit(2);
  }
  /** @type {Config} */
  let c;
  try {
    c = parseConfig(readFileSync(file, 'utf8'));
  } catch (e) {
    process.stderr.write(`${file}:1:1: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
  if (checkOnly) return;
  const checker = startChecker(c);
  const stop = async () => {
    await checker.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    try {
      checker.reloadDrain(parseConfig(readFileSync(file, 'utf8')).drain);
      log('reloaded: drain settings and Knot\'s answer TTL taken; other changes need a restart');
    } catch (e) {
      log(`reload refused, running on: ${file}:1:1: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
