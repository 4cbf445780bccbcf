// The baseline model for the failover and shield comparisons: the shipped sites with the timers
// people ship when they do not tune them, written as a sites directory the model loads like any
// other (so every daemon runs exactly as anycdn renders it, only with these values):
//   - keepalived advert_int 1 (vip.advertIntervalMs: 1000), its default;
//   - BGP without BFD (bgp.peers[].bfd: false) and with RFC 4271's suggested hold time, 90 s
//     (keepalive 30 s). bird's own default is 240 s and FRR's and Cisco's 180 s: 90 s is the
//     kindest of the common defaults to the baseline;
//   - anycast-healthchecker's defaults: check_interval 10 s, check_timeout 2 s, check_fail 2,
//     check_rise 2 (healthcheck intervalMs, timeoutMs, fall, rise);
//   - no origin shield (no `shield:`), every site fetching its misses from the origin itself.
//     Without a shield every site would make its own derived images, which a Squid-only site
//     cannot (the model refuses it), so the baseline has no images.transforms either.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';

export const BASELINE = {
  advertIntervalMs: 1000,
  holdTimeSec: 90,
  keepaliveTimeSec: 30,
  healthcheck: { intervalMs: 10_000, timeoutMs: 2000, fall: 2, rise: 2 },
};

/** Writes the baseline variant of the sites in `from` into `dir`; returns `dir`. */
export function writeBaselineSites(from: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(from).filter((x) => x.endsWith('.yaml'))) {
    const doc = parseDocument(readFileSync(join(from, f), 'utf8'));
    if (f === 'cdn.yaml') {
      doc.delete('shield');
      doc.delete('images');
      for (const [k, v] of Object.entries(BASELINE.healthcheck)) doc.setIn(['healthcheck', k], v);
    } else {
      doc.setIn(['vip', 'advertIntervalMs'], BASELINE.advertIntervalMs);
      const peers = doc.getIn(['bgp', 'peers']) as { items: unknown[] } | undefined;
      peers?.items.forEach((_, i) => doc.setIn(['bgp', 'peers', i, 'bfd'], false));
      if (peers?.items.length) {
        doc.setIn(['bgp', 'holdTimeSec'], BASELINE.holdTimeSec);
        doc.setIn(['bgp', 'keepaliveTimeSec'], BASELINE.keepaliveTimeSec);
      }
    }
    writeFileSync(join(dir, f), doc.toString());
  }
  return dir;
}
