// Where each lab client's anycast query lands (lib/lab/nearest.ts), which `lab up`'s readiness
// expects: its own site, unless prepends make another nearer.
import { describe, expect, it } from 'vitest';
import { anycastFamilies } from '../../lib/model/facts.ts';
import { nearestAnswers, nearestSites } from '../../lib/lab/nearest.ts';
import { planLab } from '../../lib/lab/plan.ts';
import { prepends } from '../helpers/lab-models.ts';
import { loadEdited } from '../helpers/topology.ts';

const family = (t: ReturnType<typeof loadEdited>, group: string, f: 4 | 6) => anycastFamilies(t).find((x) => x.group === group && x.family === f)!;

describe('nearest sites', () => {
  it('shipped: each announcing site is nearest its own router; sin (no BGP) is one hop from both', () => {
    const t = loadEdited();
    expect(Object.fromEntries(nearestSites(t, planLab(t), family(t, 'a', 4)))).toEqual({ ams: ['ams'], nyc: ['nyc'], sin: ['ams', 'nyc'] });
    expect(Object.fromEntries(nearestAnswers(t, planLab(t), family(t, 'a', 4)))).toEqual({ ams: ['198.51.100.10'], nyc: ['198.51.100.74'], sin: ['198.51.100.10', '198.51.100.74'] });
  });

  it('prepends: ams IPv4 (65010 x3) loses even its own router to nyc (2 ASNs through the core); its IPv6 (x2) ties', () => {
    const t = loadEdited(prepends);
    const plan = planLab(t);
    expect(Object.fromEntries(nearestSites(t, plan, family(t, 'a', 4)))).toEqual({ ams: ['nyc'], nyc: ['nyc'], sin: ['nyc'] });
    expect(Object.fromEntries(nearestSites(t, plan, family(t, 'b', 6)))).toEqual({ ams: ['ams', 'nyc'], nyc: ['nyc'], sin: ['nyc'] });
  });

  it('a drained site (graceful shutdown, then withdrawn) is nearest to no one', () => {
    const t = loadEdited((x) => {
      x['sites/ams.yaml'] = x['sites/ams.yaml']!.replace('platform: metal\n', 'platform: metal\nstate: drained\n');
    });
    expect(Object.fromEntries(nearestSites(t, planLab(t), family(t, 'a', 4)))).toEqual({ ams: ['nyc'], nyc: ['nyc'], sin: ['nyc'] });
  });
});
