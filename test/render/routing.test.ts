// The ROAs, the SLURM file and the RPSL route objects, checked against the model they come from.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planLab } from '../../lib/lab/plan.ts';
import { routerBirdConf } from '../../lib/lab/router-bird.ts';
import { missingBinary } from '../helpers/daemons.ts';
import { anycastGroups, announcesBgp } from '../../lib/model/facts.ts';
import { roas, roaTable, routingFiles, rpsl, slurm } from '../../lib/render/routing.ts';
import { edit, errors, load, shipped } from '../model/fixtures.ts';

const S = shipped();

describe('out/routing', () => {
  it('lists one ROA per covering prefix, all from the one origin AS, at the prefix length', () => {
    expect(roaTable(roas(load(S)))).toBe(`prefix            maxLength  origin   anycast  originated by
192.0.2.0/24      24         AS64496  a        ams,nyc
203.0.113.0/24    24         AS64496  b        ams,nyc
2001:db8:53::/48  48         AS64496  a        ams,nyc
2001:db8:54::/48  48         AS64496  b        ams,nyc
`);
  });

  it('authorizes in SLURM exactly what the BGP sites announce, from the origin AS: a prefix only one site announces names that site', () => {
    // A third prefix, without name servers, that only ams announces; sin (aws) originates nothing.
    const texts = edit(
      S,
      ['sites/cdn.yaml', '      nameservers: [ns2.cdn.example.net]\n', '      nameservers: [ns2.cdn.example.net]\n    - name: c\n      ipv4: { prefix: 198.18.0.0/24, address: 198.18.0.53 }\n'],
      ['sites/ams.yaml', 'bgp:\n', 'bgp:\n  announce: [a, b, c]\n'],
      ['sites/nyc.yaml', 'bgp:\n', 'bgp:\n  announce: [b, a]\n'],
    );
    const t = load(texts);
    const doc = JSON.parse(slurm(roas(t)));
    expect(Object.keys(doc)).toEqual(['slurmVersion', 'validationOutputFilters', 'locallyAddedAssertions']);
    expect(doc.slurmVersion).toBe(1);
    expect(doc.validationOutputFilters).toEqual({ prefixFilters: [], bgpsecFilters: [] });
    const got = (doc.locallyAddedAssertions.prefixAssertions as { asn: number; prefix: string; maxPrefixLength: number }[]).map((a) => `${a.prefix} ${a.maxPrefixLength} AS${a.asn}`);
    // The expectation, straight from the model: every prefix some BGP site names, every family, the origin AS.
    const want = new Set(
      t.sites
        .filter(announcesBgp)
        .flatMap((s) => anycastGroups(t).filter((g) => (s.bgp.announce ?? [g.name]).includes(g.name)).flatMap((g) => g.families.map((f) => `${f.prefix} ${f.prefix.split('/')[1]} AS${t.cdn.bgp.originAsn}`))),
    );
    expect(got.sort()).toEqual([...want].sort());
    expect(roas(t).find((r) => r.prefix === '198.18.0.0/24')!.sites).toEqual(['ams']);
    expect(roas(t).flatMap((r) => r.sites)).not.toContain('sin');
  });

  it('behind an upstream that originates for the sites, the ROAs and route objects name the upstream, never the private AS', () => {
    const texts = edit(S, ['sites/cdn.yaml', 'originAsn: 64496', 'originAsn: 65010\n  upstreamOriginAsn: 64501'], ['sites/nyc.yaml', 'asn: 64502\n      bfd: true', 'asn: 64501\n      bfd: true'], ['sites/nyc.yaml', 'asn: 64502\n', 'asn: 64501\n']);
    const t = load(texts);
    expect([...new Set(roas(t).map((r) => r.asn))]).toEqual([64501]);
    expect(rpsl(t, roas(t))).not.toContain('65010');
    expect(rpsl(t, roas(t))).toContain('origin:         AS64501\n');
  });

  it('with Global Accelerator BYOIP, the IPv4 prefixes also authorise Amazon\'s ASNs 16509 and 14618; no route objects for them', () => {
    const t = load(S);
    expect(roaTable(roas(t, { byoip: true }))).toBe(`prefix            maxLength  origin   anycast  originated by
192.0.2.0/24      24         AS14618  a        global-accelerator
192.0.2.0/24      24         AS16509  a        global-accelerator
192.0.2.0/24      24         AS64496  a        ams,nyc
203.0.113.0/24    24         AS14618  b        global-accelerator
203.0.113.0/24    24         AS16509  b        global-accelerator
203.0.113.0/24    24         AS64496  b        ams,nyc
2001:db8:53::/48  48         AS64496  a        ams,nyc
2001:db8:54::/48  48         AS64496  b        ams,nyc
`);
    expect(rpsl(t, roas(t, { byoip: true }))).toBe(rpsl(t, roas(t)));
  });

  it('writes one RPSL route or route6 object per prefix, with the model\'s mnt-by and source', () => {
    const t = load(S);
    const text = rpsl(t, roas(t));
    const objects = text.split('\n\n').slice(1);
    expect(objects).toHaveLength(4);
    expect(text.split('\n\n')[0]).toBe('# RPSL route objects for the anycast prefixes, origin AS64496, for RADB.');
    expect(objects[0]).toBe(
      [
        'route:          192.0.2.0/24',
        'descr:          anycdn anycast prefix a (ns1.cdn.example.net), cdn.example.net',
        'origin:         AS64496',
        'remarks:        announced from ams, nyc',
        'mnt-by:         MAINT-EXAMPLE',
        'source:         RADB',
      ].join('\n'),
    );
    expect(objects.map((o) => o.split('\n')[0]!.split(':')[0]).filter((k) => k === 'route6')).toHaveLength(2);
    expect(routingFiles(t).map((f) => f.path)).toEqual(['routing/roas.txt', 'routing/roas.slurm.json', 'routing/irr.rpsl']);
    // Without bgp.irr the file says what to add.
    const bare = load(edit(S, ['sites/cdn.yaml', '  irr: { mntBy: [MAINT-EXAMPLE], source: RADB }\n', '']));
    expect(rpsl(bare, roas(bare)).split('\n\n')[0]).toBe('# RPSL route objects for the anycast prefixes, origin AS64496. Set bgp.irr {mntBy, source} in\n# cdn.yaml (or add mnt-by: and source: to each) before submitting.');
    expect(rpsl(bare, roas(bare))).not.toMatch(/^mnt-by:/m);
  });

  it('docs/routing.md shows the generated table and route object as they are', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'routing.md'), 'utf8');
    const t = load(S);
    expect(readme).toContain(`\`\`\`\n${roaTable(roas(t))}\`\`\`\n`);
    expect(readme).toContain(rpsl(t, roas(t)).split('\n\n')[1]);
  });

  it('refuses a site named routing, the directory these files go to', () => {
    const texts: Record<string, string> = { ...S, 'sites/routing.yaml': S['sites/nyc.yaml']!.replace('id: nyc', 'id: routing') };
    delete texts['sites/nyc.yaml'];
    expect(errors(texts)).toEqual(['sites/routing.yaml:2:5: id: routing is where render writes the ROAs and IRR objects (out/routing/); name the site otherwise, such as routing-1']);
  });
});

describe.skipIf(missingBinary('/usr/sbin/bird', 'bird2'))("the lab routers validate origins against the same ROAs", () => {
  const t = load(S);
  const plan = planLab(t);
  const dir = mkdtempSync(join(tmpdir(), 'anycdn-roa-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const check = (text: string): string => {
    const f = join(dir, 'bird.conf');
    writeFileSync(f, text);
    const r = spawnSync('/usr/sbin/bird', ['-p', '-c', f], { encoding: 'utf8' });
    return r.status === 0 ? '' : r.stderr;
  };

  it('every router loads the ROA list into roa4/roa6 tables, strips private ASNs and accepts a site route only when it is ROA-valid', () => {
    for (const r of plan.routers) {
      const conf = routerBirdConf(t, plan, r);
      expect(check(conf), r.site).toBe('');
      expect(conf).toContain('\troute 192.0.2.0/24 max 24 as 64496;\n');
      expect(conf).toContain('\troute 2001:db8:54::/48 max 48 as 64496;\n');
      if (t.sites.find((x) => x.id === r.site)!.bgp.peers.length === 0) continue; // sin: no site sessions
      expect(conf).toContain(`\tbgp_path.delete([64512..65534, 4200000000..4294967294]);
\tif bgp_path.len = 0 then {
\t\tif roa_check(roas4, net, ${r.coreAsn}) != ROA_VALID then reject;
\t} else {
\t\tif roa_check(roas4, net, bgp_path.last) != ROA_VALID then reject;
\t}
`);
      expect(conf).toContain('\tif net ~ ANYCAST4 && roa_check(roas4, net, bgp_path.last) = ROA_INVALID then reject;\n');
    }
  });

  it('a ROA list naming another origin leaves the origin AS out of the tables, still a valid config', () => {
    const router = plan.routers.find((r) => r.site === 'nyc')!;
    const conf = routerBirdConf(t, plan, router, roas(t).map((r) => ({ ...r, asn: 65020 })));
    expect(check(conf)).toBe('');
    expect(conf).not.toMatch(/max \d+ as 64496;/);
    expect(conf).toMatch(/route 203\.0\.113\.0\/24 max 24 as 65020;/);
  });

  it('behind an upstream that originates: the router of that upstream validates the stripped route against its own ASN', () => {
    const up = load(edit(S, ['sites/cdn.yaml', 'originAsn: 64496', 'originAsn: 65010\n  upstreamOriginAsn: 64501'], ['sites/nyc.yaml', 'asn: 64502\n      bfd: true', 'asn: 64501\n      bfd: true'], ['sites/nyc.yaml', 'asn: 64502\n', 'asn: 64501\n']));
    const upPlan = planLab(up);
    const conf = routerBirdConf(up, upPlan, upPlan.routers.find((r) => r.site === 'ams')!);
    expect(check(conf)).toBe('');
    expect(conf).toContain('\troute 192.0.2.0/24 max 24 as 64501;\n');
    expect(conf).toContain('\t\tif roa_check(roas4, net, 64501) != ROA_VALID then reject;\n');
    expect(conf).toContain('\tneighbor 198.51.100.11 as 65010;\n');
  });
});
