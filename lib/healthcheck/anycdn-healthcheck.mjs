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

/** The checker's state in Prometheus' text format. */
export function metricsText(/** @type {{ state: Announce, dnsUp: boolean, imagePathUp: boolean, transitions: number }} */ m) {
  return [
    '# HELP anycdn_anycast_state 1 for the announcement state the checker is in: announced, depreferred or withdrawn.',
    '# TYPE anycdn_anycast_state gauge',
    ...['announced', 'depreferred', 'withdrawn'].map((s) => `anycdn_anycast_state{state="${s}"} ${m.state === s ? 1 : 0}`),
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

/**
 * The DNS prober of one service address: one connected UDP socket and one TCP connection, both
 * kept across probes. It asks for A (and AAAA when the site has an IPv6 VIP) and wants exactly
 * this site's addresses.
 */
class DnsProber {
  /**
   * @param {Config['dns']} dns @param {string} server
   * @param {{ fallback?: string, fallback6?: string }} [drain] also good answers: a draining site's DNS answers with them
   */
  constructor(dns, server, drain = {}) {
    this.dns = { ...dns, server };
    const want = (/** @type {(string | undefined)[]} */ list) => new Set(list.filter((a) => a !== undefined).map((a) => canonicalIp(/** @type {string} */ (a))));
    /** @type {{ qtype: 1 | 28, expect: Set<string> }[]} */
    this.expects = [
      { qtype: 1, expect: want([dns.expect, drain.fallback]) },
      ...(dns.expect6 ? [{ qtype: /** @type {28} */ (28), expect: want([dns.expect6, drain.fallback6]) }] : []),
    ];
    this.nextId = Math.floor(Math.random() * 0xffff);
    /** @type {Map<number, { transport: 'udp' | 'tcp', qtype: 1 | 28, done: (answers: string[] | undefined) => void }>} */
    this.pending = new Map();
    /** @type {Promise<import('node:dgram').Socket> | undefined} */
    this.udp = undefined;
    /** @type {net.Socket | undefined} */
    this.tcp = undefined;
    this.tcpBuf = Buffer.alloc(0);
  }

  id() {
    this.nextId = (this.nextId + 1) & 0xffff;
    return this.nextId;
  }

  /** A connected UDP socket: a dead server's ICMP port-unreachable then fails the query at once. */
  udpSocket() {
    if (this.udp) return this.udp;
    const s = createSocket(net.isIPv6(this.dns.server) ? 'udp6' : 'udp4');
    s.on('message', (msg) => this.settle(msg));
    const ready = new Promise((resolve) => s.connect(this.dns.port, this.dns.server, () => resolve(s)));
    s.on('error', () => {
      if (this.udp === ready) {
        this.udp = undefined;
        for (const p of [...this.pending.values()]) if (p.transport === 'udp') p.done(undefined);
      }
      closeQuietly(s);
    });
    this.udp = /** @type {Promise<import('node:dgram').Socket>} */ (ready);
    return this.udp;
  }

  dropUdp() {
    this.udp?.then(closeQuietly);
    this.udp = undefined;
  }

  tcpSocket() {
    if (this.tcp) return this.tcp;
    const s = net.connect({ host: this.dns.server, port: this.dns.port });
    s.setNoDelay(true);
    s.on('data', (d) => {
      this.tcpBuf = Buffer.concat([this.tcpBuf, d]);
      while (this.tcpBuf.length >= 2 && this.tcpBuf.length >= 2 + this.tcpBuf.readUInt16BE(0)) {
        const len = this.tcpBuf.readUInt16BE(0);
        this.settle(this.tcpBuf.subarray(2, 2 + len));
        this.tcpBuf = this.tcpBuf.subarray(2 + len);
      }
    });
    const drop = () => {
      if (this.tcp === s) {
        this.tcp = undefined;
        this.tcpBuf = Buffer.alloc(0);
        // Queries sent on it get no answer now: they fail at once, not at their timeout.
        for (const p of [...this.pending.values()]) if (p.transport === 'tcp') p.done(undefined);
      }
      s.destroy();
    };
    s.on('error', drop);
    s.on('close', drop);
    this.tcp = s;
    return s;
  }

  settle(/** @type {Buffer} */ msg) {
    if (msg.length < 2) return;
    const id = msg.readUInt16BE(0);
    const p = this.pending.get(id);
    p?.done(dnsAnswers(msg, id, p.qtype));
  }

  /** One query over one transport; true when the answer is exactly one expected address. */
  query(/** @type {'udp' | 'tcp'} */ transport, /** @type {{ qtype: 1 | 28, expect: Set<string> }} */ want, /** @type {number} */ timeoutMs) {
    return new Promise((resolve) => {
      const id = this.id();
      const q = dnsQuery(id, this.dns.name, want.qtype);
      const finish = (/** @type {boolean} */ ok) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(ok);
      };
      const timer = setTimeout(() => {
        // A stuck connection is not reused: the next probe starts a fresh one.
        if (transport === 'tcp') this.tcp?.destroy();
        else this.dropUdp();
        finish(false);
      }, timeoutMs);
      this.pending.set(id, { transport, qtype: want.qtype, done: (answers) => finish(answers !== undefined && answers.length === 1 && want.expect.has(/** @type {string} */ (answers[0]))) });
      if (transport === 'udp') {
        this.udpSocket().then((s) => s.send(q, (err) => err && finish(false)));
      } else {
        this.tcpSocket().write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]));
      }
    });
  }

  /**
   * Good when UDP and TCP answer every query correctly within the timeout; bad as soon as one
   * fails (a dead server refuses TCP at once, while its UDP query would wait out the timeout).
   */
  probe(/** @type {number} */ timeoutMs) {
    return allGood(this.expects.flatMap((want) => [this.query('udp', want, timeoutMs), this.query('tcp', want, timeoutMs)]));
  }

  close() {
    this.dropUdp();
    this.tcp?.destroy();
  }
}

/** True once every promise is true; false as soon as one is false. */
function allGood(/** @type {Promise<unknown>[]} */ checks) {
  return new Promise((resolve) => {
    let good = 0;
    for (const p of checks) {
      p.then((ok) => {
        if (!ok) resolve(false);
        else if (++good === checks.length) resolve(true);
      });
    }
  });
}

// ------------------------------------------------------------------------------------ HTTP

/**
 * The image-path prober: GET the health path on the VIP over one keep-alive connection. A
 * minimal HTTP/1.1 client (status line, Content-Length or chunked, or a close-delimited body):
 * Node's http module costs about as much CPU again per probe, and this is all the checker needs.
 */
class HttpProber {
  constructor(/** @type {string} */ url) {
    const u = new URL(url);
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 80);
    this.request = Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: anycdn-healthcheck\r\n\r\n`, 'latin1');
    /** @type {net.Socket | undefined} */
    this.sock = undefined;
    this.buf = '';
    /** @type {((ok: boolean) => void) | undefined} */
    this.pending = undefined;
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
        this.pending?.(false);
      }
      s.destroy();
    };
    s.on('error', drop);
    s.on('close', drop);
    this.sock = s;
    return s;
  }

  /** Settles the pending probe once a whole response is in (or the connection closed after one). */
  parse(/** @type {boolean} */ closed) {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0 || !this.pending) return;
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
    const done = this.pending;
    this.pending = undefined;
    done(status?.[1] === '200');
    if (/\r\nconnection: *close/.test(head)) this.sock?.destroy();
  }

  probe(/** @type {number} */ timeoutMs) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.sock?.destroy();
        resolve(false);
      }, timeoutMs);
      this.pending = (ok) => {
        clearTimeout(timer);
        this.pending = undefined;
        resolve(ok);
      };
      this.buf = '';
      this.socket().write(this.request);
    });
  }

  close() {
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
    return { text: readFileSync(path, 'utf8'), mtimeMs: statSync(path).mtimeMs };
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
  const drainAnswers = { fallback: c.drain?.fallback, fallback6: c.drain?.fallback6 };
  const groups = c.anycast.map((g) => ({
    ...g,
    probers: g.addresses.map((a) => new DnsProber(c.dns, a.split('/')[0] ?? a, drainAnswers)),
    verdict: new Verdict(c.rise, c.fall),
    state: /** @type {Announce} */ ('withdrawn'),
  }));
  const webs = [c.http.url, ...(c.http.url6 ? [c.http.url6] : [])].map((u) => new HttpProber(u));
  const webVerdict = new Verdict(c.rise, c.fall);
  const ip = c.ipCommand ?? '/usr/sbin/ip';
  const overall = () => RANK[Math.min(...groups.map((g) => RANK.indexOf(g.state)))] ?? 'withdrawn';
  let state = overall();
  let transitions = 0;
  /** What bird's announce file says (undefined: not written yet or bird not told). */
  let birdSays = /** @type {string | undefined} */ (undefined);
  let stopped = false;
  const onLo = (/** @type {Announce} */ s) => s === 'announced' || s === 'depreferred' || s === 'draining';

  /** The announce file bird includes, and `configure` over bird's socket when it changed. */
  const tellBird = async (/** @type {Announce[]} */ next) => {
    // One flag each for the whole site: every per-peer export filter applies them to every prefix.
    const deprefer = next.includes('depreferred') ? 1 : 0;
    const drain = next.includes('draining') ? 1 : 0;
    const says = `define ANYCAST_DEPREFER = ${deprefer};\ndefine ANYCAST_DRAIN = ${drain};\n`;
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

  // One change at a time, in the order the verdicts asked for them.
  let applying = Promise.resolve();
  const decide = () => {
    applying = applying.then(async () => {
      if (stopped) return;
      watchDrain();
      // DNS first: resolvers that still reach this site learn the fallback before routes move.
      await steerKnot();
      const imageUp = webVerdict.known ? webVerdict.up : undefined;
      const drainPhase = phase();
      // A drain applies to every prefix of the site; each prefix keeps its own verdicts.
      const next = groups.map((g) => drainTarget(target(g.verdict.up, imageUp, c.onImagePathDown), g.state, drainPhase));
      if (next.some((n, i) => n !== groups[i]?.state)) await apply(next);
      // A bird that could not be told (not up yet) is told again on the next probe.
      else if (next.some(onLo)) await tellBird(next);
    });
    return applying;
  };

  // One timer drives every probe; each verdict takes its probe's result the moment it is in, so
  // a refused DNS query is acted on without waiting for a slow image path (and one wake-up per
  // interval keeps the checker's CPU down).
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const tick = async () => {
    const feed = (/** @type {Verdict} */ v) => async (/** @type {unknown} */ ok) => {
      if (stopped) return;
      v.feed(ok === true);
      await decide();
    };
    await Promise.all([
      ...groups.map((g) => allGood(g.probers.map((p) => p.probe(c.timeoutMs))).then(feed(g.verdict))),
      allGood(webs.map((w) => w.probe(c.timeoutMs))).then(feed(webVerdict)),
    ]);
    if (!stopped) timer = setTimeout(tick, c.intervalMs);
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
        else res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'cache-control': 'no-store' }).end(metricsText({ state, dnsUp: groups.every((g) => g.verdict.up), imagePathUp: webVerdict.up, transitions }));
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
      clearTimeout(statusRetry);
      statusServer?.close();
      await applying;
      for (const g of groups) for (const p of g.probers) p.close();
      for (const w of webs) w.close();
      if (groups.some((g) => onLo(g.state))) await apply(groups.map(() => /** @type {Announce} */ ('withdrawn')));
    },
    /** The overall state: the worst prefix's. */
    state: () => state,
    /** Each prefix's state, by name. */
    groups: () => Object.fromEntries(groups.map((g) => [g.name, g.state])),
    /** Takes the drain settings of a reloaded config (SIGHUP): a model drain begins or ends. */
    reloadDrain(/** @type {DrainConfig | undefined} */ d) {
      if (d && c.drain) c.drain = { ...c.drain, drained: d.drained, withdrawAfterSec: d.withdrawAfterSec };
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
      log('reloaded: drain settings taken; other changes need a restart');
    } catch (e) {
      log(`reload refused, running on: ${file}:1:1: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
