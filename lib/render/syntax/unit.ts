// systemd unit files: [Section] headers and Key=Value lines, in the order given. The one gate
// of this dialect: a value is a plain string without newlines, or a command (argv) whose every
// word passes `unitWord`; nothing else is written.

/** A word that systemd expands to an environment variable ($MAINPID): the only `$` allowed. */
export interface EnvRef {
  env: 'MAINPID';
}

/** One Exec*= line: argv, and whether a failure is ignored (systemd's `-` prefix). */
export interface Exec {
  argv: (string | EnvRef)[];
  ignoreFailure?: boolean;
}

export type UnitValue = string | Exec;
export type UnitSection = [section: 'Unit' | 'Service' | 'Timer' | 'Install', entries: [key: string, value: UnitValue][]];

export const exec = (...argv: (string | EnvRef)[]): Exec => ({ argv });
/** A shell one-liner for an Exec line: `/bin/sh -c SCRIPT`. */
export const sh = (script: string): Exec => exec('/bin/sh', '-c', script);
export const MAINPID: EnvRef = { env: 'MAINPID' };

/**
 * One argv word as systemd reads it back unchanged: bare when it has only safe characters, else
 * in single quotes. `%` (specifiers), `$` (variables), `\` (escapes), `'` and control characters
 * would be interpreted, so they are refused: a model value never reaches a unit with them.
 */
export function unitWord(w: string | EnvRef): string {
  if (typeof w !== 'string') return `$${w.env}`;
  if (/^[A-Za-z0-9_@+=:,.\/-]+$/.test(w)) return w;
  if (w === '' || /[%$\\'\u0000-\u001f\u007f]/.test(w)) throw new Error(`internal: ${JSON.stringify(w)} cannot be a word of a systemd command line`);
  return `'${w}'`;
}

export function execText(e: Exec): string {
  if (e.argv.length === 0) throw new Error('internal: empty command');
  return `${e.ignoreFailure ? '-' : ''}${e.argv.map(unitWord).join(' ')}`;
}

export function emitUnit(sections: UnitSection[]): string[] {
  const out: string[] = [];
  for (const [name, entries] of sections) {
    if (out.length > 0) out.push('');
    out.push(`[${name}]`);
    for (const [k, v] of entries) {
      if (typeof v !== 'string') out.push(`${k}=${execText(v)}`);
      else if (/[\u0000-\u001f\u007f]/.test(v)) throw new Error(`internal: unit value for ${k} has a control character`);
      else out.push(`${k}=${v}`);
    }
  }
  return out;
}
