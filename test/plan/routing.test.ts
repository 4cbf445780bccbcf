// The routing paperwork in a plan: a change to out/routing/ (here a new origin AS) makes filing the
// ROAs and IRR objects the first step, before any host announces; no change, no such step.
import { describe, expect, it } from 'vitest';
import { formatPlan } from '../../lib/plan/format.ts';
import { edit, shipped } from '../model/fixtures.ts';
import { planOf } from './harness.ts';

describe('plan: out/routing/ changes', () => {
  it('a new origin AS: the ROAs and IRR objects change, and filing them is step 1, before the bird hosts', () => {
    const p = planOf(edit(shipped(), ['sites/cdn.yaml', 'originAsn: 64496', 'originAsn: 64497']));
    expect(p.routing.map((f) => `${f.path} ${f.status}`)).toEqual(['routing/irr.rpsl changed', 'routing/roas.slurm.json changed', 'routing/roas.txt changed']);
    expect(p.routing.find((f) => f.path === 'routing/roas.txt')!.diff).toContain('+192.0.2.0/24      24         AS64497  a        ams,nyc\n');
    expect(p.steps[0]).toEqual({
      n: 1,
      title: 'file these ROAs and IRR objects first: an announcement made before its ROA is RPKI-invalid',
      site: null,
      hosts: [],
      impact: 'file-only',
      classes: ['file-only'],
      drainFirst: false,
      actions: [
        'file out/routing/roas.txt with your RIR (one ROA per line) and out/routing/irr.rpsl with your IRR database',
        "wait until the validators your upstreams use show the new ROAs (routinator/rpki-client output, or your RIR's RPKI view) before the next step",
      ],
    });
    // The sessions' local AS changes after it, on every dns host of the BGP sites (the shield last, backups first).
    expect(p.steps.slice(1).map((s) => s.title)).toEqual(['nyc/nyc-lb2', 'nyc/nyc-lb1', 'ams/ams-lb2', 'ams/ams-lb1']);
    expect(formatPlan(p, false)).toContain('  1. file these ROAs and IRR objects first: an announcement made before its ROA is RPKI-invalid [file-only]');
  });

  it('with BYOIP the step says the metal sites withdraw the /24s before the accelerator announces them', () => {
    const p = planOf(edit(shipped(), ['sites/cdn.yaml', 'originAsn: 64496', 'originAsn: 64497']), 'not compared in this test', undefined, true);
    expect(p.steps[0]!.actions.at(-1)).toBe(
      'BYOIP: AWS advertises a range only after the metal sites stop announcing it (AdvertiseByoipCidr), so withdraw the IPv4 anycast prefixes from the metal sites before the accelerator announces them (deploy anycdn-global last)',
    );
  });

  it('a change that leaves out/routing/ alone has no paperwork step', () => {
    const p = planOf(edit(shipped(), ['sites/cdn.yaml', 'shield: ams', 'shield: nyc']));
    expect(p.routing).toEqual([]);
    expect(p.steps.some((s) => s.title.startsWith('file these ROAs'))).toBe(false);
  });
});
