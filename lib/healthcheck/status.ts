// The checker's state over HTTP, for load balancers that poll rather than peer (Global
// Accelerator): 200 only while announced plainly; with `metrics`, the state for Prometheus too,
// to the scrape subnets only. A failed bind is logged and retried, never fatal.
import http from 'node:http';
import net from 'node:net';
import type { Announce, Config, StatusConfig } from './config.ts';
import { log } from './log.ts';

/** What the endpoint reports, read at each request. */
export interface StatusView {
  state: Announce;
  /** Each anycast prefix's own state, by its model name. */
  prefixes: { name: string; state: Announce }[];
  dnsUp: boolean;
  imagePathUp: boolean;
  transitions: number;
}

/** Who may read /metrics: monitoring.scrapeFrom. */
export function allowList(prefixes: string[]): (address: string | undefined) => boolean {
  const list = new net.BlockList();
  for (const p of prefixes) {
    const [addr = '', len] = p.split('/');
    list.addSubnet(addr, Number(len), net.isIP(addr) === 4 ? 'ipv4' : 'ipv6');
  }
  return (address) => {
    if (!address) return false;
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
    return v4 ? list.check(v4, 'ipv4') : list.check(address, net.isIP(address) === 4 ? 'ipv4' : 'ipv6');
  };
}

/** Every announcement state, in the order the metrics list them. */
const ANNOUNCE_STATES: Announce[] = ['announced', 'depreferred', 'withdrawn', 'draining', 'drained'];

/**
 * The checker's state in Prometheus' text format: the overall state (the worst prefix's) and each
 * prefix's, with the drain states, so alerts can tell a deliberate drain from a failure.
 */
export function metricsText(m: StatusView): string {
  return [
    "# HELP anycdn_anycast_state 1 for the announcement state the checker is in (the worst prefix's): announced, depreferred, withdrawn, draining or drained.",
    '# TYPE anycdn_anycast_state gauge',
    ...ANNOUNCE_STATES.map((s) => `anycdn_anycast_state{state="${s}"} ${m.state === s ? 1 : 0}`),
    '# HELP anycdn_anycast_prefix_state 1 for the announcement state of each anycast prefix (by its model name).',
    '# TYPE anycdn_anycast_prefix_state gauge',
    ...m.prefixes.flatMap((p) => ANNOUNCE_STATES.map((s) => `anycdn_anycast_prefix_state{prefix="${p.name}",state="${s}"} ${p.state === s ? 1 : 0}`)),
    "# HELP anycdn_healthcheck_up 1 while the probe's verdict (with rise/fall) is up.",
    '# TYPE anycdn_healthcheck_up gauge',
    `anycdn_healthcheck_up{probe="dns"} ${m.dnsUp ? 1 : 0}`,
    `anycdn_healthcheck_up{probe="image_path"} ${m.imagePathUp ? 1 : 0}`,
    '# HELP anycdn_anycast_transitions_total Changes of the announcement state since the checker started.',
    '# TYPE anycdn_anycast_transitions_total counter',
    `anycdn_anycast_transitions_total ${m.transitions}`,
    '',
  ].join('\n');
}

/** Serves the status (and metrics) endpoint until close(); a failed bind retries every 5 s. */
export function serveStatus(st: StatusConfig, metrics: Config['metrics'], view: () => StatusView): { close(): void } {
  let server: http.Server | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  const mayScrape = metrics ? allowList(metrics.allowFrom) : () => false;
  const listen = () => {
    const s = http.createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') res.writeHead(405).end();
      else if (metrics && path === metrics.path) {
        if (!mayScrape(req.socket.remoteAddress)) res.writeHead(403).end();
        else res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'cache-control': 'no-store' }).end(metricsText(view()));
      } else if (path !== st.path) res.writeHead(404).end();
      else {
        const { state } = view();
        res.writeHead(state === 'announced' ? 200 : 503, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(`${state}\n`);
      }
    });
    s.on('error', (e) => {
      log(`status endpoint ${st.address}:${st.port}: ${e.message}; retrying in 5 s`);
      s.close();
      if (!closed) retry = setTimeout(listen, 5000);
    });
    s.listen(st.port, st.address);
    server = s;
  };
  listen();
  return {
    close() {
      closed = true;
      clearTimeout(retry);
      server?.close();
    },
  };
}
