/**
 * Code-point order for every sort whose result reaches output or messages: unlike
 * localeCompare, it is the same on every machine whatever its locale.
 */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
