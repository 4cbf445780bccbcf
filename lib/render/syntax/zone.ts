// RFC 1035 zone files: one record per line, absolute names, aligned columns. Records are typed:
// every name passes name(), every address matches its record type, every number is a uint32, so
// no model value can add a field, a record, a comment (`;`) or a directive (`$`) to the file.
import { isIPv4, isIPv6 } from 'node:net';

export type ZoneRecord = { name: string; ttlSec: number } & (
  | {
      type: 'SOA';
      rdata: { mname: string; rname: string; serial: number; refreshSec: number; retrySec: number; expireSec: number; negativeTtlSec: number };
    }
  | { type: 'NS'; rdata: string }
  | { type: 'A'; rdata: string }
  | { type: 'AAAA'; rdata: string }
);

/** A host name label: letters, digits, hyphens (and `_` for service labels), 1..63, no edge hyphen. */
const LABEL = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;

/**
 * An absolute domain name in a zone file, from a name without its trailing dot. Names that would
 * need zone-file escapes (blanks, `;`, `(`, `"`, `\`, `$`, `@`, ...) are refused: the model only
 * lets host names through.
 */
export function fqdn(name: string): string {
  const labels = name.split('.');
  if (name.length > 253 || !labels.every((l) => LABEL.test(l))) throw new Error(`internal: ${JSON.stringify(name)} is not a domain name a zone file carries bare`);
  return `${name}.`;
}

function uint32(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`internal: ${JSON.stringify(n)} is not a zone file number`);
  return String(n);
}

function rdata(r: ZoneRecord): string {
  switch (r.type) {
    case 'SOA': {
      const s = r.rdata;
      return [fqdn(s.mname), fqdn(s.rname), ...[s.serial, s.refreshSec, s.retrySec, s.expireSec, s.negativeTtlSec].map(uint32)].join(' ');
    }
    case 'NS':
      return fqdn(r.rdata);
    case 'A':
      if (!isIPv4(r.rdata)) throw new Error(`internal: A record data ${JSON.stringify(r.rdata)} is not an IPv4 address`);
      return r.rdata;
    case 'AAAA':
      if (!isIPv6(r.rdata)) throw new Error(`internal: AAAA record data ${JSON.stringify(r.rdata)} is not an IPv6 address`);
      return r.rdata;
  }
}

export function emitZone(origin: string, records: ZoneRecord[]): string[] {
  const width = Math.max(...records.map((r) => fqdn(r.name).length));
  return [
    `$ORIGIN ${fqdn(origin)}`,
    ...records.map((r) => `${fqdn(r.name).padEnd(width)} ${uint32(r.ttlSec).padStart(6)} IN ${r.type.padEnd(4)} ${rdata(r)}`),
  ];
}
