// The CLI run in-process, as a test calls it: what it printed to standard output and error, by line, and its exit code.
import { main } from '../../lib/cli/main.ts';

export async function runCli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}
