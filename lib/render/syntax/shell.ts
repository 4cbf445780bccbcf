// POSIX sh: the one place a value is quoted for a shell script.
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `NAME='value'` lines for the top of a generated script. */
export function shAssignments(vars: [name: string, value: string | number][]): string[] {
  return vars.map(([name, value]) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`internal: bad shell variable ${name}`);
    return `${name}=${shQuote(String(value))}`;
  });
}
