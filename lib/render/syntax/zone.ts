// RFC 1035 zone files: one record per line, absolute names, aligned columns.
export interface ZoneRecord {
  /** Absolute name without the trailing dot. */
  name: string;
  ttlSec: number;
  type: 'SOA' | 'NS' | 'A' | 'AAAA' | 'TXT';
  rdata: string;
}

/** An absolute domain name in a zone file. */
export function fqdn(name: string): string {
  return `${name}.`;
}

export function emitZone(origin: string, records: ZoneRecord[]): string[] {
  const width = Math.max(...records.map((r) => fqdn(r.name).length));
  return [
    `$ORIGIN ${fqdn(origin)}`,
    ...records.map((r) => `${fqdn(r.name).padEnd(width)} ${String(r.ttlSec).padStart(6)} IN ${r.type.padEnd(4)} ${r.rdata}`),
  ];
}
