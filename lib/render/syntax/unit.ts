// systemd unit files: [Section] headers and Key=Value lines, in the order given.
export type UnitSection = [section: 'Unit' | 'Service' | 'Install', entries: [key: string, value: string][]];

export function emitUnit(sections: UnitSection[]): string[] {
  const out: string[] = [];
  for (const [name, entries] of sections) {
    if (out.length > 0) out.push('');
    out.push(`[${name}]`);
    for (const [k, v] of entries) {
      if (/[\n\r]/.test(v)) throw new Error(`internal: unit value for ${k} has a newline`);
      out.push(`${k}=${v}`);
    }
  }
  return out;
}
