// anycdn-sin, the shipped aws site: targeted properties an auditor checks first. IMDSv2, disks,
// the security group rules (nothing but each role's ports, no SSH), the IAM scoping, and that each
// instance's user data fetches exactly the bundle of its own rendered files.
import { beforeAll, describe, expect, it } from 'vitest';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { sha256 } from '../../lib/cloud/bundle.ts';
import { USER_DATA_LIMIT_BYTES } from '../../lib/cloud/userdata.ts';
import { assetHashOf, readAsset, synth, userDataOf, type Synth } from './synth.ts';

let s: Synth;
let t: Template;
const HOSTS = { 'sin-cache1': '10.30.0.21', 'sin-cache2': '10.30.0.22', 'sin-lb1': '10.30.0.11', 'sin-lb2': '10.30.0.12' };

beforeAll(() => {
  s = synth();
  t = s.template('anycdn-sin');
});

function instances(): Record<string, any> {
  return t.findResources('AWS::EC2::Instance');
}

function instanceOf(host: string): any {
  const found = Object.values(instances()).filter((r) => r.Properties.Tags.some((tag: any) => tag.Key === 'Name' && tag.Value === host));
  expect(found).toHaveLength(1);
  return found[0];
}

function groupId(name: 'base' | 'lb' | 'dns' | 'cache'): string {
  const ids = Object.entries(t.findResources('AWS::EC2::SecurityGroup')).filter(([, r]) => String(r.Properties.GroupDescription).startsWith(`anycdn sin: `) && r.Metadata['aws:cdk:path'] === `anycdn-sin/${name}-sg/Resource`);
  expect(ids).toHaveLength(1);
  return ids[0]![0];
}

describe('instances', () => {
  it('exist once per host, with no fixed address of their own: each claims its model address at boot', () => {
    expect(Object.keys(instances())).toHaveLength(4);
    for (const [host, address] of Object.entries(HOSTS)) {
      expect(instanceOf(host).Properties.PrivateIpAddress).toBeUndefined();
      expect(userDataOf(instanceOf(host))).toContain(`ADDRESS='${address}'\nSUBNET='10.30.0.0/24'\nROUTER='10.30.0.1'\nVPC_CIDR='10.30.0.0/24'\nINTERFACE='ens5'`);
    }
  });

  it('require IMDSv2, encrypt their disk, monitor in detail, and let a replacement terminate them', () => {
    t.allResourcesProperties('AWS::EC2::Instance', {
      MetadataOptions: { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3' }) }],
      Monitoring: true,
      DisableApiTermination: false,
      ImageId: 'ami-0123456789abcdef0',
    });
  });

  it('take the Debian 12 AMI pinned for the region in context anycdn:debian-ami, not a parameter resolved at deploy', () => {
    // The only SSM parameter left is CDK's own bootstrap version check.
    expect(Object.keys(s.json('anycdn-sin').Parameters)).toEqual(['BootstrapVersion']);
    expect(JSON.stringify(s.json('anycdn-sin'))).not.toContain('AWS::EC2::Image::Id');
  });

  it('claim the model address from whichever interface holds it, and hand it back when the host fails', () => {
    for (const host of Object.keys(HOSTS)) {
      const ud = userDataOf(instanceOf(host));
      expect(ud).toContain(`--filters "Name=subnet-id,Values=$subnet_id" "Name=addresses.private-ip-address,Values=$ADDRESS"`);
      expect(ud).toContain(`if [ "$1" = FAILURE ]; then hand_back || true; fi`);
      // The claim comes after the packages and the bundle, right before the units (re)start.
      expect(ud.indexOf('tar -xzmf')).toBeLessThan(ud.indexOf('aws ec2 assign-private-ip-addresses'));
      expect(ud.indexOf('aws ec2 assign-private-ip-addresses')).toBeLessThan(ud.indexOf('systemctl restart $UNITS'));
    }
  });

  it('forward the accelerator\'s ports from the primary address to the model address on dns hosts only', () => {
    expect(userDataOf(instanceOf('sin-lb1'))).toContain(`FORWARD_TCP='53, 8053'\nFORWARD_UDP='53'`);
    expect(userDataOf(instanceOf('sin-lb1'))).toContain(`ip daddr $PRIMARY udp dport { $FORWARD_UDP } dnat to $ADDRESS`);
    expect(userDataOf(instanceOf('sin-lb1'))).toContain(`BOOT_PACKAGES='awscli ca-certificates curl nftables'`);
    expect(userDataOf(instanceOf('sin-cache1'))).not.toContain('FORWARD_TCP');
    expect(userDataOf(instanceOf('sin-cache1'))).toContain(`BOOT_PACKAGES='awscli ca-certificates curl'`);
  });

  it('size cache disks from the model: 16 GiB base plus the nginx cache and 10%', () => {
    expect(instanceOf('sin-cache1').Properties.BlockDeviceMappings[0].Ebs.VolumeSize).toBe(16 + Math.ceil(50 * 1.1));
    expect(instanceOf('sin-lb1').Properties.BlockDeviceMappings[0].Ebs.VolumeSize).toBe(16);
  });

  it('roll one at a time, each host after the previous one reported healthy', () => {
    // The loader sorts hosts by name: the caches first, then the lb pair.
    const order = ['sin-cache1', 'sin-cache2', 'sin-lb1', 'sin-lb2'];
    const waits = new Set(Object.keys(t.findResources('AWS::CloudFormation::WaitCondition')));
    const waitsOf = (host: string) => (instanceOf(host).DependsOn ?? []).filter((d: string) => waits.has(d));
    expect(waitsOf('sin-cache1')).toEqual([]);
    for (let i = 1; i < order.length; i++) expect(waitsOf(order[i]!), order[i]).toEqual([readyOf(order[i - 1]!)[0]]);
  });

  it('give every host a wait condition of its own, after its instance, satisfied by one signal within 30 minutes', () => {
    const handles = t.findResources('AWS::CloudFormation::WaitConditionHandle');
    expect(Object.keys(handles)).toHaveLength(4);
    for (const host of Object.keys(HOSTS)) {
      const [id, ready] = readyOf(host);
      expect(ready.Properties).toEqual({ Handle: { Ref: expect.stringMatching(/ReadyHandle/) }, Timeout: '1800', Count: 1 });
      expect(handles[ready.Properties.Handle.Ref], host).toBeDefined();
      expect(ready.DependsOn).toEqual([instanceIdOf(host)]);
      // The host signals exactly its own handle.
      expect(userDataOf(instanceOf(host))).toContain(`SIGNAL_URL='\${Ref:${ready.Properties.Handle.Ref}}'`);
      expect(id).toMatch(new RegExp(`^${host.replaceAll('-', '')}Ready`));
    }
  });

  it('gate on the units and the local probes: a dns host on its checker\'s GET /anycast, a cache on haproxy\'s check path', () => {
    expect(userDataOf(instanceOf('sin-lb1'))).toContain(`PROBES='http://10.30.0.11:8053/anycast'`);
    expect(userDataOf(instanceOf('sin-cache1'))).toContain(`PROBES='http://10.30.0.21:80/.anycdn/health'`);
    for (const host of Object.keys(HOSTS)) {
      const ud = userDataOf(instanceOf(host));
      expect(ud).toContain("systemctl is-active --quiet $UNITS || return 1");
      expect(ud).toContain(`signal SUCCESS "$HOST: units active, probes green"`);
      expect(ud).toContain(`signal FAILURE "$HOST: not ready after $READY_ATTEMPTS checks"`);
      expect(ud).toContain(`trap 'signal FAILURE "bootstrap of $HOST failed at line $LINENO"' ERR`);
    }
  });
});

/** The wait condition of a host: [logical id, resource]. */
function readyOf(host: string): [string, any] {
  const found = Object.entries(t.findResources('AWS::CloudFormation::WaitCondition')).filter(([, r]) => r.Metadata['aws:cdk:path'].startsWith(`anycdn-sin/${host}/Ready-`));
  expect(found, host).toHaveLength(1);
  return found[0]!;
}

function instanceIdOf(host: string): string {
  return Object.entries(instances()).find(([, r]) => r === instanceOf(host))![0];
}

describe('user data', () => {
  it.each(Object.keys(HOSTS))('%s fetches the asset whose bytes are its own rendered bundle, and checks that hash', (host) => {
    const bundle = s.bundles.find((b) => b.host === host)!;
    expect(bundle.files.length).toBeGreaterThan(0);
    const ud = userDataOf(instanceOf(host));
    const key = `${assetHashOf(bundle.sha256)}.gz`;
    expect(ud).toContain(`BUNDLE_URL='s3://cdk-hnb659fds-assets-111111111111-ap-southeast-1/${key}'`);
    expect(ud).toContain(`BUNDLE_SHA256='${bundle.sha256}'`);
    // The file CDK publishes under that key holds exactly these bytes.
    const staged = readAsset(s, `asset.${assetHashOf(bundle.sha256)}.tar.gz`);
    expect(sha256(staged)).toBe(bundle.sha256);
  });

  it.each(Object.keys(HOSTS))('%s stays under the 16 KB EC2 limit', (host) => {
    // The wait condition handle's presigned URL replaces its Ref at deploy time: well under 2 KB.
    expect(Buffer.byteLength(userDataOf(instanceOf(host))) + 2048).toBeLessThan(USER_DATA_LIMIT_BYTES);
  });

  it('installs the packages and starts the units of each role', () => {
    expect(userDataOf(instanceOf('sin-lb1'))).toContain(`PACKAGES='awscli haproxy iproute2 keepalived knot nftables nodejs prometheus-node-exporter'`);
    expect(userDataOf(instanceOf('sin-lb1'))).toMatch(/UNITS='anycdn-exporter-firewall\.service [^']*haproxy\.service keepalived\.service knot\.service prometheus-node-exporter\.service'/);
    expect(userDataOf(instanceOf('sin-cache1'))).toContain(`PACKAGES='gir1.2-vips-8.0 mtail nftables nginx prometheus-nginx-exporter prometheus-node-exporter python3 python3-gi'`);
    expect(userDataOf(instanceOf('sin-cache1'))).toContain(`UNITS='anycdn-exporter-firewall.service anycdn-thumbnailer.service mtail.service nginx.service prometheus-nginx-exporter.service prometheus-node-exporter.service'`);
  });
});

describe('security groups', () => {
  it('open only 80/tcp (lb), 53/udp+tcp and the health checker\'s 8053/tcp (dns) to the internet; no SSH anywhere', () => {
    const open: string[] = [];
    for (const [id, r] of Object.entries(t.findResources('AWS::EC2::SecurityGroup'))) {
      for (const rule of r.Properties.SecurityGroupIngress ?? []) {
        if (rule.CidrIp === '0.0.0.0/0') open.push(`${id.replace(/[A-F0-9]{8}$/, '')} ${rule.IpProtocol}/${rule.FromPort}`);
      }
    }
    expect(open.sort()).toEqual(['dnssg tcp/53', 'dnssg tcp/8053', 'dnssg udp/53', 'lbsg tcp/80']);
    const all = JSON.stringify(s.json('anycdn-sin'));
    expect(all).not.toMatch(/"FromPort":22\b/);
  });

  it('let VRRP (IP protocol 112) only between the lb pair', () => {
    const lb = groupId('lb');
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 2);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { IpProtocol: '112', GroupId: { 'Fn::GetAtt': [lb, 'GroupId'] }, SourceSecurityGroupId: { 'Fn::GetAtt': [lb, 'GroupId'] } });
    t.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { IpProtocol: '112', GroupId: { 'Fn::GetAtt': [lb, 'GroupId'] }, DestinationSecurityGroupId: { 'Fn::GetAtt': [lb, 'GroupId'] } });
  });

  it('let the caches be reached only from the lb hosts, on the cache port, and from Prometheus on the nginx exporter and mtail', () => {
    const cache = groupId('cache');
    const r = t.findResources('AWS::EC2::SecurityGroup')[cache]!;
    expect(r.Properties.SecurityGroupIngress).toEqual([
      { CidrIp: '198.51.100.192/28', Description: 'Prometheus (198.51.100.192/28) to the mtail exporter', FromPort: 3903, IpProtocol: 'tcp', ToPort: 3903 },
      { CidrIp: '198.51.100.192/28', Description: 'Prometheus (198.51.100.192/28) to the nginx exporter', FromPort: 9113, IpProtocol: 'tcp', ToPort: 9113 },
    ]);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, GroupId: { 'Fn::GetAtt': [cache, 'GroupId'] }, SourceSecurityGroupId: { 'Fn::GetAtt': [groupId('lb'), 'GroupId'] } });
  });

  it('put each host in base plus one group per role', () => {
    const groups = (h: string) => instanceOf(h).Properties.NetworkInterfaces[0].GroupSet.map((g: any) => g['Fn::GetAtt'][0]).sort();
    expect(groups('sin-lb1')).toEqual([groupId('base'), groupId('dns'), groupId('lb')].sort());
    expect(groups('sin-cache1')).toEqual([groupId('base'), groupId('cache')].sort());
  });
});

describe('IAM', () => {
  function policyOf(host: string): any[] {
    const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) => p.Metadata['aws:cdk:path'] === `anycdn-sin/${host}/Role/DefaultPolicy/Resource`);
    expect(policies).toHaveLength(1);
    return policies[0]!.Properties.PolicyDocument.Statement;
  }
  const sids = (host: string) => policyOf(host).map((st) => st.Sid).sort();

  it('gives lb hosts the Elastic IP move, scoped to the allocation and to their own interfaces in the VIP subnet', () => {
    expect(sids('sin-lb1')).toEqual(['AssociateSiteElasticIp', 'ClaimOwnAddressOnOwnInterfaces', 'FindAddressHolder', 'MoveVipOntoOwnInterface', 'ReadOwnBundle', 'ReadReferencedSecrets']);
    // A dns host of an acme CDN: the TSIG key of the challenge updates, from SSM, and nothing else.
    const secrets = policyOf('sin-lb1').find((st) => st.Sid === 'ReadReferencedSecrets');
    expect(secrets.Action).toBe('ssm:GetParameter');
    expect(JSON.stringify(secrets.Resource)).toContain(':ssm:ap-southeast-1:111111111111:parameter/anycdn/acme/tsig');
    const [eip, eni] = ['AssociateSiteElasticIp', 'MoveVipOntoOwnInterface'].map((sid) => policyOf('sin-lb1').find((st) => st.Sid === sid));
    expect(eip.Action).toBe('ec2:AssociateAddress');
    expect(JSON.stringify(eip.Resource)).toContain(':ec2:ap-southeast-1:111111111111:elastic-ip/eipalloc-0a1b2c3d4e5f60718');
    // @aws-cdk/aws-iam:minimizePolicies sorts the actions.
    expect(eni.Action).toEqual(['ec2:AssignPrivateIpAddresses', 'ec2:AssociateAddress']);
    expect(JSON.stringify(eni.Resource)).toContain(':network-interface/*');
    expect(JSON.stringify(eni.Condition.ArnEquals['ec2:Subnet'])).toMatch(/:subnet\/",\{"Ref":"NetworkSubnetpublic[0-9A-F]{8}"\}/);
    expect(eni.Condition.StringEquals).toEqual({ 'aws:ResourceTag/anycdn:site': 'sin', 'aws:ResourceTag/anycdn:host': 'sin-lb1' });
  });

  it('lets every host claim its model address: ec2:AssignPrivateIpAddresses only on its own instances\' interfaces in its own subnet', () => {
    for (const host of Object.keys(HOSTS)) {
      const claim = policyOf(host).find((st) => st.Sid === 'ClaimOwnAddressOnOwnInterfaces');
      expect(claim.Action, host).toBe('ec2:AssignPrivateIpAddresses');
      expect(JSON.stringify(claim.Resource)).toContain(':network-interface/*');
      expect(JSON.stringify(claim.Condition.ArnEquals['ec2:Subnet'])).toMatch(/:subnet\/",\{"Ref":"NetworkSubnetpublic[0-9A-F]{8}"\}/);
      expect(claim.Condition.StringEquals, host).toEqual({ 'aws:ResourceTag/anycdn:site': 'sin', 'aws:ResourceTag/anycdn:host': host });
    }
  });

  it('tags both interfaces of every instance at launch with exactly the tags its address statements require', () => {
    const templates = t.findResources('AWS::EC2::LaunchTemplate');
    for (const host of Object.keys(HOSTS)) {
      const ref = instanceOf(host).Properties.LaunchTemplate;
      const lt = templates[ref.LaunchTemplateId.Ref]!;
      expect(ref.Version).toEqual({ 'Fn::GetAtt': [ref.LaunchTemplateId.Ref, 'LatestVersionNumber'] });
      expect(lt.Properties.LaunchTemplateData.TagSpecifications, host).toEqual([
        { ResourceType: 'network-interface', Tags: [{ Key: 'anycdn:site', Value: 'sin' }, { Key: 'anycdn:host', Value: host }] },
      ]);
      const required = policyOf(host).filter((st) => st.Action === 'ec2:AssignPrivateIpAddresses' || (Array.isArray(st.Action) && st.Action.includes('ec2:AssignPrivateIpAddresses')));
      for (const st of required) {
        expect(Object.entries(st.Condition.StringEquals).map(([k, v]) => ({ Key: k.replace('aws:ResourceTag/', ''), Value: v }))).toEqual(lt.Properties.LaunchTemplateData.TagSpecifications[0].Tags);
      }
    }
  });

  it('gives caches read of the origin bucket (and list, so a missing image is a 404) and of EC2 only their address claim', () => {
    expect(sids('sin-cache1')).toEqual(['ClaimOwnAddressOnOwnInterfaces', 'FindAddressHolder', 'ListOriginSoMissingIs404', 'ReadOrigin', 'ReadOwnBundle']);
    const read = policyOf('sin-cache1').find((st) => st.Sid === 'ReadOrigin');
    expect(read).toMatchObject({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::anycdn-example-images/*' });
  });

  it('lets each host read only its own bundle object', () => {
    for (const host of Object.keys(HOSTS)) {
      const bundle = s.bundles.find((b) => b.host === host)!;
      const own = policyOf(host).find((st) => st.Sid === 'ReadOwnBundle');
      expect(own.Action).toBe('s3:GetObject');
      expect(JSON.stringify(own.Resource)).toContain(`/${assetHashOf(bundle.sha256)}.gz`);
    }
  });

  it('puts cache roles under the path the origin bucket admits, others elsewhere', () => {
    const paths = Object.values(t.findResources('AWS::IAM::Role')).map((r) => `${r.Metadata['aws:cdk:path']} ${r.Properties.Path ?? '/'}`).sort();
    expect(paths).toEqual([
      'anycdn-sin/Custom::CrossRegionExportWriterCustomResourceProvider/Role /',
      'anycdn-sin/Network/FlowLog/IAMRole/Resource /',
      'anycdn-sin/sin-cache1/Role/Resource /anycdn/cache/',
      'anycdn-sin/sin-cache2/Role/Resource /anycdn/cache/',
      'anycdn-sin/sin-lb1/Role/Resource /anycdn/',
      'anycdn-sin/sin-lb2/Role/Resource /anycdn/',
    ]);
  });

  it('attach SSM core for Session Manager to every host role', () => {
    const hostRoles = Object.values(t.findResources('AWS::IAM::Role')).filter((r) => /\/Role\/Resource$/.test(r.Metadata['aws:cdk:path']));
    expect(hostRoles).toHaveLength(4);
    for (const r of hostRoles) expect(JSON.stringify(r.Properties.ManagedPolicyArns)).toContain(':iam::aws:policy/AmazonSSMManagedInstanceCore');
  });
});

describe('network', () => {
  const subnetId = (cidr: string) => {
    const found = Object.entries(t.findResources('AWS::EC2::Subnet')).filter(([, r]) => r.Properties.CidrBlock === cidr);
    expect(found, cidr).toHaveLength(1);
    return found[0]![0];
  };
  const tableOf = (subnet: string) => {
    const found = Object.values(t.findResources('AWS::EC2::SubnetRouteTableAssociation')).filter((a) => a.Properties.SubnetId.Ref === subnet);
    expect(found, subnet).toHaveLength(1);
    return found[0]!.Properties.RouteTableId.Ref as string;
  };
  const defaultRoute = (table: string) => {
    const found = Object.values(t.findResources('AWS::EC2::Route')).filter((r) => r.Properties.RouteTableId.Ref === table && r.Properties.DestinationCidrBlock === '0.0.0.0/0');
    expect(found, table).toHaveLength(1);
    return found[0]!.Properties;
  };

  it('keeps the model subnet exactly, in a pinned zone, mapping no public addresses, and logs rejected flows', () => {
    t.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.30.0.0/24' });
    t.hasResourceProperties('AWS::EC2::Subnet', { CidrBlock: '10.30.0.0/24', AvailabilityZone: 'ap-southeast-1a', MapPublicIpOnLaunch: false });
    t.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT', ResourceType: 'VPC' });
  });

  it('maps a public address in no subnet, and no instance interface asks for one', () => {
    const subnets = Object.values(t.findResources('AWS::EC2::Subnet'));
    expect(subnets.map((r) => `${r.Properties.CidrBlock} ${r.Properties.MapPublicIpOnLaunch}`).sort()).toEqual(['10.30.0.0/24 false', '100.64.0.0/27 false', '100.64.0.32/27 false']);
    for (const host of Object.keys(HOSTS)) {
      const p = instanceOf(host).Properties;
      expect(p.SubnetId, host).toBeUndefined();
      expect(p.NetworkInterfaces.map((n: any) => `${n.DeviceIndex} ${n.AssociatePublicIpAddress}`), host).toEqual(['0 false', '1 false']);
    }
  });

  it('routes the model subnet (the Elastic IP on the VIP) to the internet gateway, and gives every host a second interface in the egress subnet, routed to the NAT gateway', () => {
    const service = tableOf(subnetId('10.30.0.0/24'));
    expect(t.findResources('AWS::EC2::InternetGateway')[defaultRoute(service).GatewayId.Ref]).toBeDefined();
    const egress = subnetId('100.64.0.32/27');
    const nat = defaultRoute(tableOf(egress)).NatGatewayId.Ref as string;
    const natGateway = t.findResources('AWS::EC2::NatGateway')[nat]!;
    expect(natGateway.Properties.ConnectivityType).toBe('public');
    // The NAT gateway sits in the egress block's public subnet, which routes to the internet gateway.
    expect(natGateway.Properties.SubnetId.Ref).toBe(subnetId('100.64.0.0/27'));
    expect(tableOf(subnetId('100.64.0.0/27'))).toBe(service);
    t.hasResourceProperties('AWS::EC2::VPCCidrBlock', { CidrBlock: '100.64.0.0/24' });
    for (const host of Object.keys(HOSTS)) {
      const [primary, second] = instanceOf(host).Properties.NetworkInterfaces;
      expect(primary.SubnetId.Ref, host).toBe(subnetId('10.30.0.0/24'));
      expect(second.SubnetId.Ref, host).toBe(egress);
      expect(second.GroupSet, host).toEqual(primary.GroupSet);
      // The instance starts only once the NAT gateway's route exists: its bootstrap needs egress.
      expect(instanceOf(host).DependsOn, host).toContain(Object.entries(t.findResources('AWS::EC2::Route')).find(([, r]) => r.Properties.NatGatewayId)![0]);
      const ud = userDataOf(instanceOf(host));
      expect(ud, host).toContain(`ROUTER='10.30.0.1'\nVPC_CIDR='10.30.0.0/24'\nINTERFACE='ens5'\nEGRESS_SUBNET='100.64.0.32/27'\nEGRESS_ROUTER='100.64.0.33'`);
      // The egress routes come before apt, which needs them.
      expect(ud.indexOf('ip route replace default via "$EGRESS_ROUTER" dev "$egress"'), host).toBeLessThan(ud.indexOf('apt_get update'));
      expect(ud, host).toContain('ip rule add pref 101 from "$SUBNET" lookup 100');
    }
  });

  it('reaches the region\'s S3 (bundles, the SSM agent package) through a gateway endpoint on both route tables', () => {
    const tables = Object.keys(t.findResources('AWS::EC2::RouteTable'));
    expect(tables).toHaveLength(2);
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    const endpoint = Object.values(t.findResources('AWS::EC2::VPCEndpoint'))[0]!.Properties;
    expect(endpoint).toMatchObject({ ServiceName: 'com.amazonaws.ap-southeast-1.s3', VpcEndpointType: 'Gateway' });
    expect(endpoint.RouteTableIds.map((r: any) => r.Ref).sort()).toEqual(tables.sort());
  });

  it('references the pre-allocated Elastic IP instead of creating one; the only new one is the NAT gateway\'s', () => {
    const eips = Object.entries(t.findResources('AWS::EC2::EIP'));
    expect(eips).toHaveLength(1);
    expect(Object.values(t.findResources('AWS::EC2::NatGateway'))[0]!.Properties.AllocationId).toEqual({ 'Fn::GetAtt': [eips[0]![0], 'AllocationId'] });
    t.resourceCountIs('AWS::EC2::EIPAssociation', 0);
  });
});
