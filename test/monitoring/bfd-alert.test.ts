// BfdSessionNotUp, evaluated by promtool on the rendered rules of the shipped model: it fires for
// a BFD session that is down while its BGP session is Established, and not when BFD is up, nor
// when BGP is down too (BgpSessionDown says that), nor for a session of another site.
import { describe, expect, it } from 'vitest';
import { renderPrometheus } from '../../lib/render/prometheus.ts';
import { PATHS } from '../../lib/render/paths.ts';
import { runbookUrl } from '../../lib/render/alerts/rule.ts';
import { missingBinary } from '../helpers/daemons.ts';
import { promtoolAlerts, type Sample } from '../helpers/promtool.ts';
import { loadEdited } from '../helpers/topology.ts';

const t = loadEdited(() => {});
const rules = renderPrometheus(t).find((f) => f.path === PATHS.prometheusRules)!.content;
const at = { site: 'ams', host: 'ams-lb1', job: 'bird', instance: '198.51.100.11:9324' };
const bfd = (ip: string, up: number): Sample => ({ name: 'bird_bfd_session_up', labels: { ...at, name: 'bfd1', interface: '---', ip }, value: up });
const bgp = (name: string, state: string, up: number): Sample => ({ name: 'bird_protocol_up', labels: { ...at, name, proto: 'BGP', state, ip_version: '4', import_filter: 'REJECT', export_filter: `export_${name.slice(4)}` }, value: up });
const firing = {
  labels: { alertname: 'BfdSessionNotUp', severity: 'warning', site: 'ams', host: 'ams-lb1', job: 'bird', instance: '198.51.100.11:9324', name: 'bfd1', interface: '---', ip: '198.51.100.1' },
  annotations: {
    summary:
      'BFD to 198.51.100.1 on ams-lb1 (ams) is not Up while its BGP session is: a dead upstream is noticed only at the hold timer. If the upstream runs FRR with ttl-security, its BFD is multihop: set bfd.multihop: true on that peer (or have the upstream drop ttl-security on the session)',
    runbook_url: runbookUrl(t, 'BfdSessionNotUp'),
  },
};

describe.skipIf(missingBinary('/usr/bin/promtool', 'prometheus'))('BfdSessionNotUp', () => {
  it('fires after 2 minutes for BFD down while its BGP session is Established', async () => {
    const r = await promtoolAlerts(rules, [bfd('198.51.100.1', 0), bgp('bgp_transit1', 'Established', 1)], 'BfdSessionNotUp', '5m', [firing]);
    expect(r.output).toContain('SUCCESS');
    expect(r.ok).toBe(true);
  });

  it('a check that can fail: expecting no alert there fails', async () => {
    const r = await promtoolAlerts(rules, [bfd('198.51.100.1', 0), bgp('bgp_transit1', 'Established', 1)], 'BfdSessionNotUp', '5m', []);
    expect(r.ok).toBe(false);
  });

  it.each<[string, Sample[]]>([
    ['BFD up', [bfd('198.51.100.1', 1), bgp('bgp_transit1', 'Established', 1)]],
    ['BGP down too (BgpSessionDown covers it)', [bfd('198.51.100.1', 0), bgp('bgp_transit1', 'Active', 0)]],
    ['BFD down for an address no BGP session of this site has', [bfd('198.51.100.65', 0), bgp('bgp_transit1', 'Established', 1)]],
  ])('does not fire: %s', async (_what, samples) => {
    const r = await promtoolAlerts(rules, samples, 'BfdSessionNotUp', '5m', []);
    expect(r.output).toContain('SUCCESS');
    expect(r.ok).toBe(true);
  });
});
