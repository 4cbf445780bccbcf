// A fixed-rate HTTP load generator for the lab, run inside a client namespace:
//   node --import tsx test/lab/loadgen.ts '<json options>'
// Fixed rate (not as fast as possible, like wrk) so the load never starves the daemons whose
// timing we measure. Bounded: it stops at the duration, and waits at most timeoutMs more.
// Prints one JSON LoadResult line.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface LoadOptions {
  target: string; // e.g. 198.51.100.10
  host: string; // Host header
  paths: string[];
  ratePerSec: number;
  durationSec: number;
  timeoutMs: number;
  /**
   * Also retry, once and on a new connection, a GET whose new connection was reset before any
   * response byte (RFC 9112 9.3.1: a client may retry an idempotent request on a new connection
   * when the connection closed before the response). Off: only a reused socket's reset is retried.
   */
  retryFreshResets?: boolean;
  /**
   * HTTPS on 443 instead of HTTP on 80: the certificate must verify against `caFile` for
   * `servername` (SNI and the name checked), as a browser's would.
   */
  tls?: { caFile: string; servername: string };
  /** A new connection (with tls a full handshake, no session resumed) for every request, instead of a keep-alive pool. */
  freshConnections?: boolean;
}

export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  byStatus: Record<string, number>;
  errors: Record<string, number>;
  /** Epoch ms at which each failed request was sent, to tell requests in flight at a kill from later ones. */
  failureStarts: number[];
  /**
   * Requests retried once because a pooled keep-alive socket was closed by the server as we
   * reused it (ECONNRESET on a reused socket): the race every HTTP client has, which Node's docs
   * and browsers answer with one retry of an idempotent request. Counted, never hidden.
   */
  staleSocketRetries: number;
  /** Requests retried once because a new connection was reset before any response byte (retryFreshResets). */
  freshResetRetries: number;
  /** Every connection reset the client saw (ECONNRESET, EPIPE), whether retried or failed. */
  resets: number;
  achievedRatePerSec: number;
  /** Requests sent per second while sending (the offered load), without the wait for the last answers. */
  sendRatePerSec: number;
  /** The median latency of the requests answered. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** With tls: how many answered requests came over a connection served each certificate (by serial). */
  certSerials: Record<string, number>;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const tls = o.tls ? { ca: readFileSync(o.tls.caFile, 'utf8'), servername: o.tls.servername } : undefined;
  const agent = tls ? new https.Agent({ keepAlive: !o.freshConnections, maxSockets: 64, ...(o.freshConnections ? { maxCachedSessions: 0 } : {}), ...tls }) : new http.Agent({ keepAlive: !o.freshConnections, maxSockets: 64 });
  const r: LoadResult = { sent: 0, ok: 0, failed: 0, byStatus: {}, errors: {}, failureStarts: [], staleSocketRetries: 0, freshResetRetries: 0, resets: 0, achievedRatePerSec: 0, sendRatePerSec: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, certSerials: {} };
  const client = tls ? https : http;
  const port = tls ? 443 : 80;
  /** Each answered request over TLS: the serial of the certificate its connection was served. */
  const noteCert = (res: http.IncomingMessage) => {
    if (!tls) return;
    const serial = (res.socket as TLSSocket).getPeerCertificate?.().serialNumber ?? 'none';
    r.certSerials[serial] = (r.certSerials[serial] ?? 0) + 1;
  };
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();
  const started = Date.now();
  const total = Math.round(o.ratePerSec * o.durationSec);
  const one = (path: string, t0 = Date.now(), retried = false): Promise<void> =>
    new Promise<void>((resolve) => {
      // Each request counts once: an error after its end, or a second error, is the same request.
      let settled = false;
      const fail = (key: string, bucket: Record<string, number>) => {
        if (settled) return;
        settled = true;
        r.failed++;
        r.failureStarts.push(t0);
        bucket[key] = (bucket[key] ?? 0) + 1;
        resolve();
      };
      // The retry goes out on a new connection, as a browser's does, never on another pooled one.
      const req = client.request({ host: o.target, port, path, agent: retried ? false : agent, headers: { Host: o.host }, timeout: o.timeoutMs, ...(tls && retried ? tls : {}) }, (res) => {
        noteCert(res);
        res.resume();
        res.on('end', () => {
          const s = String(res.statusCode);
          if (res.statusCode === 200) {
            if (settled) return;
            settled = true;
            latencies.push(Date.now() - t0);
            r.ok++;
            r.byStatus[s] = (r.byStatus[s] ?? 0) + 1;
            resolve();
          } else fail(s, r.byStatus);
        });
        // Named apart: a reset after the response began is one no client retries.
        res.on('error', (e: NodeJS.ErrnoException) => {
          if (!settled && isReset(e)) r.resets++;
          fail(`${e.code ?? 'error'} mid-response`, r.errors);
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => {
        // No response byte has arrived (else the response's own error fires): a GET may go again.
        if (!settled && isReset(e)) r.resets++;
        if (!settled && !retried && ((req.reusedSocket && e.code === 'ECONNRESET') || (o.retryFreshResets && isReset(e)))) {
          settled = true;
          if (req.reusedSocket) r.staleSocketRetries++;
          else r.freshResetRetries++;
          void one(path, t0, true).then(resolve);
          return;
        }
        fail(`${e.code ?? 'error'}${retried ? ' on the retry' : req.reusedSocket ? ' on a reused socket' : ' on a new connection'}`, r.errors);
      });
      req.end();
    });
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / o.ratePerSec;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    const p = one(o.paths[i % o.paths.length]!);
    pending.add(p);
    void p.then(() => pending.delete(p));
    r.sent++;
  }
  const sending = (Date.now() - started) / 1000;
  await Promise.race([Promise.all(pending), new Promise((res) => setTimeout(res, o.timeoutMs + 1000))]);
  // A request still without an answer now (queued behind stalled connections, say) failed too.
  const unanswered = r.sent - r.ok - r.failed;
  if (unanswered > 0) {
    r.failed += unanswered;
    r.errors['no answer by the end'] = unanswered;
  }
  agent.destroy();
  const elapsed = (Date.now() - started) / 1000;
  r.achievedRatePerSec = Math.round(r.sent / Math.max(elapsed, 0.001));
  r.sendRatePerSec = Math.round(r.sent / Math.max(sending, 0.001));
  latencies.sort((a, b) => a - b);
  r.p50Ms = latencies[Math.floor(latencies.length * 0.5)] ?? 0;
  r.p99Ms = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
  r.maxMs = latencies[latencies.length - 1] ?? 0;
  return r;
}

function isReset(e: NodeJS.ErrnoException): boolean {
  return e.code === 'ECONNRESET' || e.code === 'EPIPE';
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  process.stdout.write('armed\n'); // a caller that must fail something under load waits for this
  const result = await runLoad(JSON.parse(process.argv[2]!) as LoadOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
