// Replacement-safe hosts (docs/deploy-cdk.md "The update path"): no resource that CloudFormation would replace for
// a property change also owns one of the site's fixed addresses (a host's model address, the VIP,
// the Elastic IP). CloudFormation creates a replacement before it deletes the old resource, so a
// fixed address on a replaced resource is still in use when the new one asks for it, and the
// update rolls back. Which properties force a replacement comes from the CloudFormation resource
// spec that @aws-cdk/cloudformation-diff carries (the data behind `cdk diff`'s "replace" marks):
// each property of an owning resource is changed alone, and the diff says whether that replaces it.
import { beforeAll, describe, expect, it } from 'vitest';
import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { load } from '../model/fixtures.ts';
import { shippedTexts } from '../helpers/topology.ts';
import { synth, userDataOf, type Synth } from './synth.ts';

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

let s: Synth;
beforeAll(() => {
  s = synth();
});

/** The fixed addresses of each aws site: host addresses, the VIP, the Elastic IP and its allocation. */
function fixedAddresses(siteId: string): string[] {
  const site = s.topology.sites.find((x) => x.id === siteId)!;
  const eip = site.vip.elasticIp!;
  return [...site.hosts.map((h) => h.address), site.vip.address, eip.address, eip.allocationId];
}

/** Leaf values of a property value, outside intrinsic functions' strings that merely mention them. */
function leaves(v: unknown): unknown[] {
  if (Array.isArray(v)) return v.flatMap(leaves);
  if (v && typeof v === 'object') return Object.values(v).flatMap(leaves);
  return [v];
}

/** Properties whose change alone replaces the resource (WILL_REPLACE or MAY_REPLACE), by the spec. */
function replacingProperties(type: string, props: Record<string, unknown>): string[] {
  const before = { Resources: { R: { Type: type, Properties: props } } };
  return Object.keys(props).filter((p) => {
    const after = { Resources: { R: { Type: type, Properties: { ...props, [p]: { 'Fn::Sub': `changed-${p}` } } } } };
    const impact = fullDiff(before as any, after as any).resources.get('R').changeImpact;
    return impact === ResourceImpact.WILL_REPLACE || impact === ResourceImpact.MAY_REPLACE;
  });
}

/** Every resource that owns a fixed address and has a property that replaces it: "id (address): properties". */
function violations(template: Template, addresses: string[]): string[] {
  const out: string[] = [];
  for (const [id, r] of Object.entries(template.Resources)) {
    const props = r.Properties ?? {};
    const owned = addresses.filter((a) => Object.entries(props).some(([k, v]) => k !== 'UserData' && leaves(v).includes(a)));
    if (owned.length === 0) continue;
    const replacing = replacingProperties(r.Type, props);
    if (replacing.length > 0) out.push(`${id} (${owned.join(', ')}): ${replacing.sort().join(', ')}`);
  }
  return out;
}

/** The shipped aws sites, known before the synth (it.each is collected before beforeAll runs). */
const AWS_SITES = load(shippedTexts()).sites.filter((x) => x.platform === 'aws').map((x) => x.id);

describe('replacement-safe hosts', () => {
  it('the spec knows what replaces an instance (the check can see it)', () => {
    expect(replacingProperties('AWS::EC2::Instance', { ImageId: 'ami-1', SubnetId: 's', InstanceType: 't3.small', Tags: [] }).sort()).toEqual(['ImageId', 'InstanceType', 'SubnetId']);
    expect(replacingProperties('AWS::EC2::NetworkInterface', { SubnetId: 's', PrivateIpAddress: '10.0.0.1', Description: 'd' }).sort()).toEqual(['PrivateIpAddress', 'SubnetId']);
  });

  it.each(AWS_SITES)('%s: no resource that a property change replaces owns a fixed address', (siteId) => {
    expect(AWS_SITES.length).toBeGreaterThan(0);
    const template = s.json(`anycdn-${siteId}`) as Template;
    expect(violations(template, fixedAddresses(siteId))).toEqual([]);
  });

  it.each(AWS_SITES)('%s: every host claims its model address at boot instead', (siteId) => {
    const site = s.topology.sites.find((x) => x.id === siteId)!;
    const instances = Object.values((s.json(`anycdn-${siteId}`) as Template).Resources).filter((r) => r.Type === 'AWS::EC2::Instance');
    expect(instances).toHaveLength(site.hosts.length);
    for (const h of site.hosts) {
      const mine = instances.filter((r) => (r.Properties!.Tags as { Key: string; Value: string }[]).some((t) => t.Key === 'Name' && t.Value === h.name));
      expect(mine, h.name).toHaveLength(1);
      expect(mine[0]!.Properties!.PrivateIpAddress, h.name).toBeUndefined();
      const ud = userDataOf(mine[0] as never);
      expect(ud, h.name).toContain(`ADDRESS='${h.address}'`);
      expect(ud, h.name).toContain('aws ec2 assign-private-ip-addresses --region "$REGION" --allow-reassignment');
    }
  });

  it.each(AWS_SITES)('%s: EC2 can pick no model address for an instance: each has an explicit reservation that every instance waits for', (siteId) => {
    const site = s.topology.sites.find((x) => x.id === siteId)!;
    const resources = (s.json(`anycdn-${siteId}`) as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] }> }).Resources;
    const reservations = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::EC2::SubnetCidrReservation');
    const reserved = reservations.map(([, r]) => [r.Properties!.Cidr, r.Properties!.ReservationType]);
    const model = [...site.hosts.map((h) => h.address), site.vip.address].map((a) => [`${a}/32`, 'explicit']);
    expect(reserved.sort()).toEqual(model.sort());
    for (const [id, r] of Object.entries(resources).filter(([, x]) => x.Type === 'AWS::EC2::Instance')) {
      expect(r.DependsOn ?? [], id).toEqual(expect.arrayContaining(reservations.map(([rid]) => rid)));
    }
  });

  it('fails on the old design: an instance that pins its address reports each host and what replaces it', () => {
    const template = structuredClone(s.json('anycdn-sin')) as Template;
    const site = s.topology.sites.find((x) => x.id === 'sin')!;
    for (const r of Object.values(template.Resources).filter((x) => x.Type === 'AWS::EC2::Instance')) {
      const name = (r.Properties!.Tags as { Key: string; Value: string }[]).find((t) => t.Key === 'Name')!.Value;
      // The instance declares its interfaces (the second one is the egress interface): pin the first.
      (r.Properties!.NetworkInterfaces as Record<string, unknown>[])[0]!.PrivateIpAddress = site.hosts.find((h) => h.name === name)!.address;
    }
    const found = violations(template, fixedAddresses('sin'));
    expect(found).toHaveLength(site.hosts.length);
    for (const v of found) expect(v).toMatch(/^sin(lb|cache)\dInstance[0-9a-f]{12}[0-9A-F]{8} \(10\.30\.0\.\d+\): .*\bImageId\b.*\bNetworkInterfaces\b/);
  });
});
