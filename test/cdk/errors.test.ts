// A model the cloud cannot build is refused before any resource exists: every problem at once, at
// its place in the site file. Bad context names the key and the fix.
import { describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../lib/cdk/app.ts';
import { formatDiagnostic, InputError } from '../../lib/model/errors.ts';
import { edit, load, shipped, type Texts } from '../model/fixtures.ts';
import { cliContext } from './synth.ts';

function cloudErrors(texts: Texts, context: Record<string, unknown> = {}): string[] {
  const app = new App({ stackTraces: false, context: cliContext(context) });
  try {
    buildApp(app, load(texts));
  } catch (e) {
    if (e instanceof InputError) return e.diagnostics.map(formatDiagnostic);
    return [`thrown: ${(e as Error).message}`];
  }
  return [];
}

describe('cloud checks on aws sites', () => {
  // What EC2 can build is a model rule now (lib/model/rules/aws-*.ts, tested in
  // test/model/rules.test.ts), so render and validate refuse it too; the app still gets it all.
  it('report every problem at once, sorted, at its place in sites/sin.yaml', () => {
    const texts = edit(
      shipped(),
      ['sites/sin.yaml', '  public: 10.30.0.0/24', '  public: 10.30.0.0/24\n  public6: 2001:db8:c::/64'],
      ['sites/sin.yaml', '    address: 10.30.0.22', '    address: 10.30.0.3'],
      ['sites/sin.yaml', '\nhosts:', '\nbgp:\n  peers:\n    - name: transit1\n      address: 10.30.0.1\n      asn: 64501\n\nhosts:'],
    );
    expect(cloudErrors(texts)).toEqual([
      'sites/sin.yaml:13:12: subnets.public6: aws site sin takes IPv4 subnets only (the VPC\'s IPv6 prefix is assigned by AWS); remove 2001:db8:c::/64',
      'sites/sin.yaml:24:3: bgp.peers: aws site sin is announced by Global Accelerator (stack anycdn-global); remove its BGP peers',
      'sites/sin.yaml:43:14: hosts[3].address: 10.30.0.3 (sin-cache2) is reserved by AWS in 10.30.0.0/24 (the first four and the last address); pick another',
    ]);
  });
});

describe('the egress block', () => {
  it('refuses a model subnet inside 100.64.0.0/24, which the egress subnets and the NAT gateway take', () => {
    const texts = shipped();
    texts['sites/sin.yaml'] = texts['sites/sin.yaml']!.replaceAll('10.30.0.', '100.64.0.');
    expect(cloudErrors(texts)).toEqual([
      'sites/sin.yaml:12:11: subnets.public: 100.64.0.0/24 overlaps 100.64.0.0/24, the block an aws site\'s egress subnets and NAT gateway use; pick a prefix outside it',
    ]);
  });
});

describe('context', () => {
  it('names every aws site whose availability zones are not pinned, with the line to add', () => {
    // A second aws site in another region, and neither pins its zones.
    const texts = edit(
      shipped(),
      ['sites/sin.yaml', '\n# Pinned, so synth never looks them up; subnets take them in name order.\navailabilityZones: [ap-southeast-1a, ap-southeast-1b, ap-southeast-1c]\n', '\n'],
      ['sites/sin.yaml', 'region: ap-southeast-1', 'region: ap-southeast-2'],
      ['sites/nyc.yaml', 'platform: metal', 'platform: aws\nregion: us-east-1'],
      ['sites/nyc.yaml', '  preempt: false\n', '  preempt: false\n  elasticIp:\n    address: 203.0.113.31\n    allocationId: eipalloc-0a1b2c3d\n'],
      ['sites/nyc.yaml', '  lan6: 2001:db8:b::/64\n', ''],
      ['sites/nyc.yaml', '    address6: 2001:db8:b::75\n', ''],
      ['sites/nyc.yaml', '    address6: 2001:db8:b::76\n', ''],
    );
    const nycNoBgp = { ...texts, 'sites/nyc.yaml': texts['sites/nyc.yaml']!.replace(/\nbgp:\n(  .*\n|\n)*?(?=hosts:)/, '\n') };
    expect(cloudErrors(nycNoBgp)).toEqual([
      'sites/nyc.yaml:5:9: region: aws site nyc has no availability zones pinned for us-east-1; add the line availabilityZones: [us-east-1a, us-east-1b, us-east-1c] to sites/nyc.yaml (the zone names your account has there)',
      'sites/sin.yaml:8:9: region: aws site sin has no availability zones pinned for ap-southeast-2; add the line availabilityZones: [ap-southeast-2a, ap-southeast-2b, ap-southeast-2c] to sites/sin.yaml (the zone names your account has there)',
    ]);
  });

  it('refuses an account id that is not 12 digits', () => {
    expect(cloudErrors(shipped(), { 'anycdn:account': '1234' })).toEqual(['thrown: context anycdn:account: must be a 12-digit AWS account id, got "1234"; set it in cdk.json or with -c anycdn:account=ACCOUNT']);
  });

  it('refuses an aws region without a pinned AMI, and an AMI id that is not one, saying how to look it up', () => {
    const lookup = '`aws ssm get-parameter --region ap-southeast-1 --name /aws/service/debian/release/12/latest/amd64 --query Parameter.Value`';
    expect(cloudErrors(shipped(), { 'anycdn:debian-ami': { 'us-east-1': 'ami-0123456789abcdef0' } })).toEqual([
      `thrown: context anycdn:debian-ami: no AMI for ap-southeast-1; add "ap-southeast-1": "ami-..." with the id from ${lookup}; set it in cdk.json or with -c anycdn:debian-ami=VALUE`,
    ]);
    expect(cloudErrors(shipped(), { 'anycdn:debian-ami': '{"ap-southeast-1": "latest"}' })).toEqual([
      'thrown: context anycdn:debian-ami: ap-southeast-1: must be an AMI id such as ami-0123456789abcdef0, got "latest"; set it in cdk.json or with -c anycdn:debian-ami=VALUE',
    ]);
    // -c passes JSON as a string: it is read like cdk.json's object.
    expect(cloudErrors(shipped(), { 'anycdn:debian-ami': '{"ap-southeast-1": "ami-0fedcba9876543210"}' })).toEqual([]);
  });

  it('refuses a flag that is not true or false', () => {
    expect(cloudErrors(shipped(), { 'anycdn:global-byoip': 'yes' })).toEqual(['thrown: context anycdn:global-byoip: must be true or false, got "yes"; set it in cdk.json or with -c anycdn:global-byoip=VALUE']);
  });
});
