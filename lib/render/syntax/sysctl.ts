// sysctl.d's dialect: `key = value` lines and `#` comments. The settings are data as well
// (RenderedFile.sysctls): the lab writes them to /proc/sys itself, as systemd-sysctl would, without
// reading the file back. A key is a kernel name (dotted lowercase words), a value one plain word.
import type { Sysctl } from '../types.ts';

export type SysctlLine = { kind: 'setting'; setting: Sysctl } | { kind: 'comment'; text: string };

export function setting(key: string, value: string | number): SysctlLine {
  const v = String(value);
  if (!/^[a-z0-9_]+(\.[a-z0-9_-]+)+$/.test(key)) throw new Error(`internal: ${JSON.stringify(key)} is not a sysctl key`);
  if (!/^[A-Za-z0-9_.:-]+$/.test(v)) throw new Error(`internal: sysctl ${key} cannot carry ${JSON.stringify(v)}`);
  return { kind: 'setting', setting: { key, value: v } };
}

export const comment = (text: string): SysctlLine => ({ kind: 'comment', text });

export function emitSysctl(lines: SysctlLine[]): string[] {
  return lines.map((l) => {
    if (l.kind === 'setting') return `${l.setting.key} = ${l.setting.value}`;
    if (/[\n\r]/.test(l.text)) throw new Error('internal: sysctl comment with a newline');
    return `# ${l.text}`;
  });
}

/** The settings among the lines, in order. */
export function sysctlSettings(lines: SysctlLine[]): Sysctl[] {
  return lines.flatMap((l) => (l.kind === 'setting' ? [l.setting] : []));
}
