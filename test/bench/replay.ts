// Replays a list of image paths against one address from inside a client namespace, `concurrency`
// requests at a time over keep-alive connections, and counts what the edge says about each:
//   node --import tsx test/bench/replay.ts <options.json>
// Bounded: every request has a timeout, and the whole replay stops at deadlineMs.
// Prints one JSON ReplayResult line.
import http from 'node:http';
import { readFileSync } from 'node:fs';

export interface ReplayOptions {
  target: string;
  host: string;
  paths: string[];
  concurrency: number;
  timeoutMs: number;
  deadlineMs: number;
  /** Keep each request's X-Served-By (the cache that answered), in stream order. */
  servedBy?: boolean;
}

export interface ReplayResult {
  requests: number;
  ok: number;
  failed: number;
  hits: number;
  bytes: number;
  hitBytes: number;
  byCacheStatus: Record<string, number>;
  errors: Record<string, number>;
  seconds: number;
  /** With options.servedBy: the cache that answered request i ('' where it failed). */
  servedBy?: string[];
}

export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const r: ReplayResult = { requests: 0, ok: 0, failed: 0, hits: 0, bytes: 0, hitBytes: 0, byCacheStatus: {}, errors: {}, seconds: 0 };
  const started = Date.now();
  if (o.servedBy) r.servedBy = [];
  let next = 0;
  const one = (path: string, i: number) =>
    new Promise<void>((resolve) => {
      const fail = (key: string) => {
        r.failed++;
        r.errors[key] = (r.errors[key] ?? 0) + 1;
        resolve();
      };
      const req = http.get({ host: o.target, port: 80, path, agent, headers: { Host: o.host }, timeout: o.timeoutMs }, (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => (bytes += d.length));
        res.on('end', () => {
          if (res.statusCode !== 200) return fail(`status ${res.statusCode}`);
          const cache = String(res.headers['x-cache-status'] ?? 'none').toUpperCase();
          r.ok++;
          r.bytes += bytes;
          r.byCacheStatus[cache] = (r.byCacheStatus[cache] ?? 0) + 1;
          if (r.servedBy) r.servedBy[i] = String(res.headers['x-served-by'] ?? '');
          if (cache === 'HIT') {
            r.hits++;
            r.hitBytes += bytes;
          }
          resolve();
        });
        res.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? 'response-error'));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? 'error'));
    });
  const worker = async () => {
    while (next < o.paths.length && Date.now() - started < o.deadlineMs) {
      const i = next++;
      r.requests++;
      await one(o.paths[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  agent.destroy();
  if (r.servedBy) r.servedBy = Array.from({ length: r.requests }, (_, i) => r.servedBy![i] ?? '');
  r.seconds = (Date.now() - started) / 1000;
  return r;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const result = await replay(JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ReplayOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
