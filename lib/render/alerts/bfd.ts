// The alert for a BFD session that BGP asked for but that is not Up while its BGP session is: BGP
// then works, and nothing else notices that failover has fallen back to the hold timer (seconds,
// not BFD's fraction of one). The case that prompted it: an FRR upstream with ttl-security runs
// RFC 5883 multihop BFD (UDP 4784) for the session while bird runs single-hop (3784), so neither
// side ever comes up. bird_exporter's bird_bfd_session_up carries the neighbour's address (ip), its
// bird_protocol_up the BGP protocol's name: the model joins them, per site and session.
import { bfdTimers } from '../../model/facts.ts';
import { canonical } from '../../model/net.ts';
import type { Topology } from '../../model/schema.ts';
import { ident } from '../syntax/bird.ts';
import { str } from '../syntax/promql.ts';

/** The PromQL of BfdSessionNotUp, or undefined when no session runs BFD. */
export function bfdNotUpExpr(t: Topology): string | undefined {
  const established = t.sites.flatMap((site) =>
    site.bgp.peers
      .filter((p) => bfdTimers(p))
      .map((p) => {
        const up = `bird_protocol_up{proto="BGP",site=${str(site.id)},name=${str(ident('bgp', p.name).text)},state="Established"} == 1`;
        return `label_replace(label_replace(${up}, "ip", ${str(canonical(p.address))}, "", ""), "hold_time_sec", ${str(String(site.bgp.holdTimeSec))}, "", "")`;
      }),
  );
  if (established.length === 0) return undefined;
  // The BFD series, matched one to one with its Established BGP session, which lends it the
  // site's hold time for the summary.
  return `(bird_bfd_session_up == 0) * on (site, host, ip) group_left (hold_time_sec) (${established.join(' or ')})`;
}

export const BFD_NOT_UP_SUMMARY =
  'BFD to {{ $labels.ip }} on {{ $labels.host }} ({{ $labels.site }}) is not Up while its BGP session is: a dead upstream is noticed only at the hold timer ({{ $labels.hold_time_sec }} s), not by BFD in a fraction of a second. If the upstream runs FRR with ttl-security, its BFD is multihop: set bfd.multihop: true on that peer (or have the upstream drop ttl-security on the session)';
