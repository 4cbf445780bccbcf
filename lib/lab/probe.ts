// Looking at a running lab from its clients and routers: DNS answers, HTTP fetches, routes.
import { run } from '../run.ts';

export interface DnsAnswer {
  address?: string;
  nsid?: string;
}

/** kdig from inside `ns` to `server` for `name`, with NSID; undefined fields when unanswered. */
export async function dig(ns: string, server: string, name: string, timeoutMs = 1000, type: 'A' | 'AAAA' = 'A'): Promise<DnsAnswer> {
  const r = await run('ip', ['netns', 'exec', ns, 'kdig', `@${server}`, name, type, '+nsid', '+retry=0', `+timeout=${Math.max(1, Math.ceil(timeoutMs / 1000))}`], { timeoutMs: timeoutMs + 500 });
  const address = new RegExp(`\\tIN\\t${type}\\t(\\S+)`).exec(r.stdout)?.[1];
  const nsid = /NSID: [0-9A-Fa-f ]*"([^"]*)"/.exec(r.stdout)?.[1];
  return { ...(address ? { address } : {}), ...(nsid ? { nsid } : {}) };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  bodySha?: string;
  bytes: number;
}

/** curl from inside `ns`; status 0 when the connection failed or timed out. */
export async function http(ns: string, url: string, opts: { host?: string; method?: string; timeoutSec?: number } = {}): Promise<HttpResult> {
  const args = ['netns', 'exec', ns, 'curl', '-s', '-o', '/dev/null', '-D', '-', '-w', '%{http_code} %{size_download}\\n', '--max-time', String(opts.timeoutSec ?? 2), '--noproxy', '*'];
  if (opts.host) args.push('-H', `Host: ${opts.host}`);
  if (opts.method) args.push('-X', opts.method);
  args.push(url);
  const r = await run('ip', args, { timeoutMs: (opts.timeoutSec ?? 2) * 1000 + 1000 });
  const lines = r.stdout.trim().split(/\r?\n/);
  const [status, size] = (lines.pop() ?? '0 0').split(' ');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(l);
    if (m) headers[m[1]!.toLowerCase()] = m[2]!;
  }
  return { status: Number(status) || 0, headers, bytes: Number(size) || 0 };
}

/** The next hops a router's kernel uses for `prefix` (empty when there is no route). */
export async function routeVia(ns: string, prefix: string): Promise<string[]> {
  const r = await run('ip', ['-n', ns, ...(prefix.includes(':') ? ['-6'] : []), 'route', 'show', prefix], { timeoutMs: 3000 });
  return [...r.stdout.matchAll(/via (\S+)/g)].map((m) => m[1]!).sort();
}
