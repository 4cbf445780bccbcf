// The DNS wire format, as much of it as the checker needs: a query for A or AAAA, and the check of
// an answer in place. No library: the checker has no dependencies.
import net from 'node:net';

/** The record types the checker asks for: A (1) and AAAA (28). */
export type QType = 1 | 28;

/** A DNS query for `name` (type A or AAAA) with message id `id`. */
export function dnsQuery(id: number, name: string, qtype: QType): Buffer {
  const labels = name.replace(/\.$/, '').split('.');
  const parts = [Buffer.from([id >> 8, id & 0xff, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'ascii'));
  parts.push(Buffer.from([0, 0, qtype, 0, 1]));
  return Buffer.concat(parts);
}

/** The offset just past the DNS name at `o`, or -1 when the message ends inside it. */
function skipName(msg: Buffer, o: number): number {
  for (;;) {
    const len = msg[o];
    if (len === undefined) return -1;
    if ((len & 0xc0) === 0xc0) return o + 2;
    o += 1 + len;
    if (len === 0) return o;
  }
}

/** The addresses of type `qtype` in the answer section of a response to query `id`, or undefined. */
export function dnsAnswers(msg: Buffer, id: number, qtype: QType): string[] | undefined {
  if (msg.length < 12 || msg.readUInt16BE(0) !== id || (msg.readUInt8(2) & 0x80) === 0 || (msg.readUInt8(3) & 0x0f) !== 0) return undefined;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let o = 12;
  try {
    for (let i = 0; i < qd; i++) {
      o = skipName(msg, o);
      if (o < 0) return undefined;
      o += 4;
    }
    const out: string[] = [];
    for (let i = 0; i < an; i++) {
      o = skipName(msg, o);
      if (o < 0) return undefined;
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
    // a read past the end (RangeError): a truncated message
    return undefined;
  }
}

function ipv6Text(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return canonicalIp(groups.join(':'));
}

/** An address in one spelling (IPv6 fully expanded, lower case), so answers compare exactly. */
export function canonicalIp(a: string): string {
  if (!net.isIPv6(a)) return a;
  const [head = '', tail] = a.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/** An address as the RDATA of its A or AAAA record carries it (4 or 16 bytes). */
export function addressBytes(a: string): Buffer {
  if (net.isIPv4(a)) return Buffer.from(a.split('.').map(Number));
  const b = Buffer.alloc(16);
  canonicalIp(a)
    .split(':')
    .forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), 2 * i));
  return b;
}

/**
 * True when `msg` answers query `id` of type `qtype` with exactly one address of that type, and it
 * is one of `expect` (as addressBytes gives them). It reads the message in place and allocates
 * nothing: it runs for every query the checker sends.
 */
export function answerMatches(msg: Buffer, id: number, qtype: QType, expect: Buffer[]): boolean {
  if (msg.length < 12 || msg.readUInt16BE(0) !== id || (msg[2]! & 0x80) === 0 || (msg[3]! & 0x0f) !== 0) return false;
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
