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
  it('lists one ROA per covering prefix and announcing ASN, at the prefix length', () => {
    expect(roaTable(roas(load(S)))).toBe(`prefix            maxLength  origin   anycast  sites
192.0.2.0/24      24         AS65010  a        ams
192.0.2.0/24      24         AS65020  a        nyc
203.0.113.0/24    24         AS65010  b        ams
203.0.113.0/24    24         AS65020  b        nyc
2001:db8:53::/48  48         AS65010  a        ams
2001:db8:53::/48  48         AS65020  a        nyc
2001:db8:54::/48  48         AS65010  b        ams
2001:db8:54::/48  48         AS65020  b        nyc
`);
  });

  it('authorizes in SLURM exactly what the BGP sites announce: a prefix only one site announces has one origin', () => {
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
    // The expectation, straight from the model: every BGP site, every prefix it names, every family.
    const want = t.sites
      .filter(announcesBgp)
      .flatMap((s) => anycastGroups(t).filter((g) => (s.bgp.announce ?? [g.name]).includes(g.name)).flatMap((g) => g.families.map((f) => `${f.prefix} ${f.prefix.split('/')[1]} AS${s.asn}`)));
    expect(got.sort()).toEqual(want.sort());
    expect(got.filter((a) => a.startsWith('198.18.0.0/24'))).toEqual(['198.18.0.0/24 24 AS65010']);
    expect(t.sites.find((s) => s.id === 'sin')!.asn).toBe(65030);
    expect(got.some((a) => a.endsWith('AS65030'))).toBe(false);
  });

  it('writes one RPSL route or route6 object per ROA, naming the origin and the name servers', () => {
    const t = load(S);
    const text = rpsl(t, roas(t));
    const objects = text.split('\n\n').slice(1);
    expect(objects).toHaveLength(8);
    expect(objects[0]).toBe(['route:          192.0.2.0/24', 'descr:          anycdn anycast prefix a (ns1.cdn.example.net), cdn.example.net', 'origin:         AS65010', 'remarks:        announced from ams'].join('\n'));
    expect(objects.map((o) => o.split('\n')[0]!.split(':')[0]).filter((k) => k === 'route6')).toHaveLength(4);
    expect(routingFiles(t).map((f) => f.path)).toEqual(['routing/roas.txt', 'routing/roas.slurm.json', 'routing/irr.rpsl']);
  });

  it('the README shows the generated table and route object as they are', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
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

  it('every router loads the ROA list into roa4/roa6 tables and accepts a site route only when it is ROA-valid', () => {
    for (const r of plan.routers) {
      const conf = routerBirdConf(t, plan, r);
      expect(check(conf), r.site).toBe('');
      expect(conf).toContain('\troute 192.0.2.0/24 max 24 as 65010;\n\troute 192.0.2.0/24 max 24 as 65020;\n');
      expect(conf).toContain('\troute 2001:db8:54::/48 max 48 as 65020;\n');
      expect(conf).toContain('\tif ! (net ~ ANYCAST4 && roa_check(roas4, net, bgp_path.last) = ROA_VALID) then reject;\n\tif (65535, 0) ~ bgp_community then bgp_local_pref = 0;\n\taccept;\n');
    }
  });

  it('a ROA list without one ASN leaves that ASN out of the tables, still a valid config', () => {
    const router = plan.routers.find((r) => r.site === 'nyc')!;
    const conf = routerBirdConf(t, plan, router, roas(t).filter((r) => r.asn !== 65020));
    expect(check(conf)).toBe('');
    expect(conf).not.toMatch(/max \d+ as 65020;/);
    expect(conf).toMatch(/route 203\.0\.113\.0\/24 max 24 as 65010;/);
  });
});
