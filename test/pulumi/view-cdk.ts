// The normalized view (view.ts) of a synthesized CDK stack: the template's intrinsics resolved
// to symbols, the published bundle bytes read from the cloud assembly through its assets manifest.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, type HostBundle } from '../../lib/cloud/bundle.ts';
import { userDataOf, type Synth } from '../cdk/synth.ts';
import { statementLine, type HostView, type RawStatement, type StackView } from './view.ts';

type Template = { Resources: Record<string, { Type: string; Properties?: any; Metadata?: any; DeletionPolicy?: string }> };

export function cdkView(s: Synth, stack: string, template: Template = s.json(`anycdn-${stack}`) as Template): StackView {
  return new CdkReader(s, stack, template).view();
}

class CdkReader {
  private readonly res: Template['Resources'];
  private readonly env: { account: string; region: string };
  private readonly bySha: Map<string, string>;
  /** S3 object key -> the staged asset path in the assembly (from <stack>.assets.json). */
  private readonly assets = new Map<string, string>();

  constructor(private readonly s: Synth, private readonly stack: string, private readonly t: Template) {
    this.res = t.Resources;
    this.env = s.assembly.getStackByName(`anycdn-${stack}`).environment;
    this.bySha = new Map(s.bundles.map((b: HostBundle) => [b.sha256, b.host]));
    const manifest = JSON.parse(readFileSync(join(s.assembly.directory, `anycdn-${stack}.assets.json`), 'utf8')) as { files: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }> };
    for (const f of Object.values(manifest.files)) {
      for (const d of Object.values(f.destinations)) this.assets.set(d.objectKey, join(s.assembly.directory, f.source.path));
    }
  }

  private ofType(type: string): [string, any][] {
    return Object.entries(this.res).filter(([, r]) => r.Type === type);
  }

  private nameTag(r: any): string {
    return r.Properties.Tags.find((t: any) => t.Key === 'Name').Value;
  }

  private groupName(id: string): string {
    const m = /\/([a-z]+)-sg\/Resource$/.exec(this.res[id]!.Metadata['aws:cdk:path']);
    if (!m) throw new Error(`no group name in ${this.res[id]!.Metadata['aws:cdk:path']}`);
    return m[1]!;
  }

  /** A named bucket by its name; the stack's own unnamed buckets by their part. */
  private bucketSymbol(id: string): string {
    const r = this.res[id]!;
    if (typeof r.Properties?.BucketName === 'string') return r.Properties.BucketName;
    const path = r.Metadata['aws:cdk:path'] as string;
    if (path.endsWith('/AccessLogs/Resource')) return '<access-logs-bucket>';
    throw new Error(`unknown bucket ${path}`);
  }

  private symbol(id: string): string {
    const r = this.res[id];
    if (!r) throw new Error(`no resource ${id} in anycdn-${this.stack}`);
    switch (r.Type) {
      case 'AWS::EC2::Subnet':
        return `<subnet:${r.Properties.CidrBlock}>`;
      case 'AWS::EC2::SecurityGroup':
        return `<sg:${this.groupName(id)}>`;
      case 'AWS::EC2::Instance':
        return `<instance:${this.nameTag(r)}>`;
      case 'AWS::S3::Bucket':
        return this.bucketSymbol(id);
      case 'AWS::Route53::HealthCheck':
        return '<health-check>';
    }
    return `<${r.Type}:${id}>`;
  }

  /** An intrinsic (or literal) as a string with symbols. */
  resolve(v: any): string {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return this.assetsToSymbols(String(v));
    if (v && typeof v === 'object') {
      if ('Ref' in v) {
        const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': this.env.region, 'AWS::AccountId': this.env.account, 'AWS::URLSuffix': 'amazonaws.com' };
        return pseudo[v.Ref] ?? this.symbol(v.Ref);
      }
      if ('Fn::GetAtt' in v) {
        const [id, attr] = v['Fn::GetAtt'] as [string, string];
        const r = this.res[id];
        if (r?.Type === 'Custom::CrossRegionExportReader') return this.crossRegion(attr);
        if (r?.Type === 'AWS::S3::Bucket' && attr === 'Arn') return `arn:aws:s3:::${this.bucketSymbol(id)}`;
        if (r?.Type === 'AWS::EC2::SecurityGroup' && attr === 'GroupId') return this.symbol(id);
        if (r?.Type === 'AWS::Route53::HealthCheck' && attr === 'HealthCheckId') return this.symbol(id);
        return `${this.symbol(id)}.${attr}`;
      }
      if ('Fn::Join' in v) {
        const [sep, parts] = v['Fn::Join'] as [string, any[]];
        return this.assetsToSymbols(parts.map((p) => this.resolve(p)).join(sep));
      }
    }
    throw new Error(`cannot resolve ${JSON.stringify(v)}`);
  }

  /** Intrinsics anywhere inside `v` resolved. */
  deep(v: any): any {
    if (v && typeof v === 'object' && !Array.isArray(v) && (Object.keys(v).length === 1 && (Object.keys(v)[0] === 'Ref' || Object.keys(v)[0]!.startsWith('Fn::')))) return this.resolve(v);
    if (Array.isArray(v)) return v.map((x) => this.deep(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.deep(x)]));
    return typeof v === 'string' ? this.assetsToSymbols(v) : v;
  }

  /** An endpoint imported from a site stack: /cdk/exports/<stack>/<...>Ref<logicalId><hash>. */
  private crossRegion(exportName: string): string {
    for (const name of this.s.stackNames) {
      if (name === `anycdn-${this.stack}`) continue;
      const other = this.s.json(name) as Template;
      for (const [id, r] of Object.entries(other.Resources)) {
        if (r.Type === 'AWS::EC2::Instance' && new RegExp(`Ref${id}[0-9A-F]{8}$`).test(exportName)) return `<instance:${this.nameTag(r)}>`;
      }
    }
    throw new Error(`no instance behind the export ${exportName}`);
  }

  private bundleSymbol(bytes: Buffer): string {
    const sha = sha256(bytes);
    return `<bundle:${this.bySha.get(sha) ?? `unknown sha256=${sha}`}>`;
  }

  /** ARNs and URLs of objects in the CDK asset bucket, as the bundle their bytes are. */
  private assetsToSymbols(text: string): string {
    return text
      .replace(/arn:aws:s3:::cdk-[a-z0-9]+-assets-\d{12}-[a-z0-9-]+\/([0-9a-f]{64}\.[a-z.]+)/g, (_, key: string) => this.bundleSymbol(this.asset(key)))
      .replace(/s3:\/\/cdk-[a-z0-9]+-assets-\d{12}-[a-z0-9-]+\/([0-9a-f]{64}\.[a-z.]+)/g, (_, key: string) => this.bundleSymbol(this.asset(key)));
  }

  private asset(key: string): Buffer {
    const path = this.assets.get(key);
    if (!path) throw new Error(`no asset published under ${key}`);
    return readFileSync(path);
  }

  private statements(doc: { Statement: RawStatement[] }): string[] {
    return doc.Statement.map((st) => statementLine(this.deep(st))).sort();
  }

  view(): StackView {
    const view: StackView = { iam: {}, bundles: {} };
    // Hosts, their roles and bundles.
    const instances = this.ofType('AWS::EC2::Instance');
    if (instances.length > 0) {
      view.hosts = {};
      for (const [logicalId, r] of instances) {
        const p = r.Properties;
        const host = this.nameTag(r);
        const profile = this.res[p.IamInstanceProfile.Ref]!;
        const roleId = profile.Properties.Roles[0].Ref as string;
        const role = this.res[roleId]!;
        const ud = userDataOf(r);
        const field = (name: string) => new RegExp(`^${name}='([^']*)'$`, 'm').exec(ud)?.[1] ?? '<missing>';
        const ebs = p.BlockDeviceMappings[0].Ebs;
        const hv: HostView = {
          address: `claims ${field('ADDRESS')} in ${field('SUBNET')} on ${field('INTERFACE')}, pins ${p.PrivateIpAddress ?? 'none'}`,
          image: `${p.ImageId} key ${/Instance([0-9a-f]{12})[0-9A-F]{8}$/.exec(logicalId)?.[1] ?? '<none>'}`,
          forward: `tcp ${field('FORWARD_TCP')} udp ${field('FORWARD_UDP')}`,
          subnet: this.resolve(p.NetworkInterfaces?.[0]?.SubnetId ?? p.SubnetId),
          publicIp: (p.NetworkInterfaces ?? []).some((n: any) => n.AssociatePublicIpAddress === true) ? 'yes' : p.NetworkInterfaces?.[0]?.AssociatePublicIpAddress === false ? 'none' : 'subnet default',
          egress: (p.NetworkInterfaces ?? []).slice(1).map((n: any) => `${this.resolve(n.SubnetId)} device ${n.DeviceIndex} groups ${JSON.stringify(n.GroupSet) === JSON.stringify(p.NetworkInterfaces[0].GroupSet) ? 'as primary' : 'other'}`).join(', ') || 'none',
          instanceType: p.InstanceType,
          groups: (p.NetworkInterfaces?.[0]?.GroupSet ?? p.SecurityGroupIds).map((g: any) => this.resolve(g)).sort(),
          metadata: `${p.MetadataOptions.HttpEndpoint} tokens=${p.MetadataOptions.HttpTokens} hops=${p.MetadataOptions.HttpPutResponseHopLimit}`,
          rootVolume: `${ebs.VolumeSize} GiB ${ebs.VolumeType}${ebs.Encrypted ? ' encrypted' : ''}${ebs.DeleteOnTermination ? ' delete-on-termination' : ''}`,
          monitoring: p.Monitoring === true,
          disableApiTermination: p.DisableApiTermination === true,
          rolePath: role.Properties.Path ?? '/',
          managedPolicies: (role.Properties.ManagedPolicyArns ?? []).map((a: any) => this.resolve(a)).sort(),
          packages: field('PACKAGES'),
          units: field('UNITS'),
        };
        view.hosts[host] = hv;
        const policies = this.ofType('AWS::IAM::Policy').filter(([, x]) => x.Properties.Roles.some((ref: any) => ref.Ref === roleId));
        view.iam[`role:${host}`] = policies.flatMap(([, x]) => this.statements(x.Properties.PolicyDocument)).sort();
        // What the user data fetches, as the hash of the bytes published there, and what it checks.
        const url = field('BUNDLE_URL');
        const key = /\/([0-9a-f]{64}\.[a-z.]+)$/.exec(url)?.[1];
        view.bundles[host] = { published: key ? sha256(this.asset(key)) : `<not an asset: ${url}>`, verified: field('BUNDLE_SHA256') };
      }
    }
    // The network.
    const vpcs = this.ofType('AWS::EC2::VPC');
    if (vpcs.length > 0) {
      view.network = [
        ...vpcs.map(([, v]) => `vpc ${v.Properties.CidrBlock} dns-hostnames=${v.Properties.EnableDnsHostnames} dns-support=${v.Properties.EnableDnsSupport}`),
        ...this.ofType('AWS::EC2::Subnet').map(([, n]) => `subnet ${n.Properties.CidrBlock} in ${n.Properties.AvailabilityZone}${n.Properties.MapPublicIpOnLaunch ? ' public-ip' : ''}`),
        ...this.ofType('AWS::EC2::Route').map(([, r]) => `route ${r.Properties.DestinationCidrBlock} via ${r.Properties.NatGatewayId ? 'nat-gateway' : this.res[r.Properties.GatewayId.Ref]!.Type === 'AWS::EC2::InternetGateway' ? 'internet-gateway' : 'other'}`),
        ...this.ofType('AWS::EC2::VPCCidrBlock').map(([, b]) => `vpc-block ${b.Properties.CidrBlock}`),
        ...this.ofType('AWS::EC2::SubnetCidrReservation').map(([, r]) => `reservation ${r.Properties.Cidr} ${r.Properties.ReservationType} in ${this.resolve(r.Properties.SubnetId)}`),
        ...this.ofType('AWS::EC2::NatGateway').map(([, n]) => `nat-gateway ${n.Properties.ConnectivityType} in ${this.resolve(n.Properties.SubnetId)}`),
        ...this.ofType('AWS::EC2::VPCEndpoint').map(([, e]) => `endpoint ${e.Properties.ServiceName} ${e.Properties.VpcEndpointType} on ${e.Properties.RouteTableIds.length} route table(s)`),
        ...this.ofType('AWS::EC2::FlowLog').map(([, f]) => `flow-log ${f.Properties.ResourceType} ${f.Properties.TrafficType} to ${f.Properties.LogDestinationType ?? 'cloud-watch-logs'}`),
      ].sort();
    }
    // Security groups.
    const groups = this.ofType('AWS::EC2::SecurityGroup');
    if (groups.length > 0) {
      view.securityGroups = {};
      const rules = new Map<string, string[]>(groups.map(([id]) => [id, []]));
      const fmt = (r: any) => `${r.IpProtocol}${r.FromPort !== undefined ? `/${r.FromPort}-${r.ToPort}` : ''}`;
      for (const [id, g] of groups) {
        for (const r of g.Properties.SecurityGroupIngress ?? []) rules.get(id)!.push(`in ${fmt(r)} from ${r.CidrIp}`);
        for (const r of g.Properties.SecurityGroupEgress ?? []) {
          // CDK's placeholder for "no egress at all" (allowAllOutbound: false without rules).
          if (r.CidrIp === '255.255.255.255/32' && r.Description === 'Disallow all traffic') continue;
          rules.get(id)!.push(`out ${fmt(r)} to ${r.CidrIp}`);
        }
      }
      for (const [, r] of this.ofType('AWS::EC2::SecurityGroupIngress')) rules.get(r.Properties.GroupId['Fn::GetAtt'][0])!.push(`in ${fmt(r.Properties)} from ${this.resolve(r.Properties.SourceSecurityGroupId)}`);
      for (const [, r] of this.ofType('AWS::EC2::SecurityGroupEgress')) rules.get(r.Properties.GroupId['Fn::GetAtt'][0])!.push(`out ${fmt(r.Properties)} to ${this.resolve(r.Properties.DestinationSecurityGroupId)}`);
      for (const [id, g] of groups) view.securityGroups[this.groupName(id)] = { description: g.Properties.GroupDescription, rules: rules.get(id)!.sort() };
    }
    // Buckets and their policies.
    const buckets = this.ofType('AWS::S3::Bucket');
    if (buckets.length > 0) {
      view.buckets = {};
      for (const [id, b] of buckets) {
        const p = b.Properties;
        const pab = p.PublicAccessBlockConfiguration ?? {};
        view.buckets[this.bucketSymbol(id)] = [
          `versioning=${p.VersioningConfiguration?.Status ?? 'none'}`,
          `sse=${p.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.SSEAlgorithm ?? 'none'}`,
          `block-public=${[pab.BlockPublicAcls, pab.BlockPublicPolicy, pab.IgnorePublicAcls, pab.RestrictPublicBuckets].every((x) => x === true)}`,
          `ownership=${p.OwnershipControls?.Rules?.[0]?.ObjectOwnership ?? 'none'}`,
          ...(p.AccessControl ? [`acl=${p.AccessControl}`] : []),
          ...(p.LifecycleConfiguration ? [`lifecycle=${(p.LifecycleConfiguration.Rules as any[]).map((r) => `${r.Status}:expire-${r.ExpirationInDays}d`).join(',')}`] : []),
          ...(p.LoggingConfiguration ? [`logging=${this.resolve(p.LoggingConfiguration.DestinationBucketName)}/${p.LoggingConfiguration.LogFilePrefix}`] : []),
        ].join(' ');
      }
      for (const [, bp] of this.ofType('AWS::S3::BucketPolicy')) view.iam[`bucket:${this.resolve(bp.Properties.Bucket)}`] = this.statements(bp.Properties.PolicyDocument);
    }
    for (const [, mp] of this.ofType('AWS::IAM::ManagedPolicy')) view.iam[`managed-policy:${mp.Properties.Description}`] = this.statements(mp.Properties.PolicyDocument);
    // Metal sites: the parameters that point each host at its published bundle.
    const pointers = this.ofType('AWS::SSM::Parameter');
    if (pointers.length > 0) {
      view.bundlePointers = pointers.map(([, p]) => `${p.Properties.Name} ${p.Properties.Type} -> ${this.assetsToSymbols(String(p.Properties.Value))}`).sort();
      for (const [, p] of pointers) {
        const host = /^\/anycdn\/[^/]+\/([^/]+)\/bundle$/.exec(p.Properties.Name)?.[1] ?? `<bad name ${p.Properties.Name}>`;
        const m = /^s3:\/\/cdk-[a-z0-9]+-assets-\d{12}-[a-z0-9-]+\/([0-9a-f]{64}\.[a-z.]+) ([0-9a-f]{64})$/.exec(String(p.Properties.Value));
        view.bundles[host] = m ? { published: sha256(this.asset(m[1]!)), verified: m[2]! } : { published: `<not an asset: ${String(p.Properties.Value)}>`, verified: '' };
      }
    }
    for (const [, h] of this.ofType('AWS::Route53::HealthCheck')) {
      const c = h.Properties.HealthCheckConfig;
      view.healthCheck = `${c.Type} ${c.IPAddress}:${c.Port}${c.ResourcePath} host ${c.FullyQualifiedDomainName} every ${c.RequestInterval}s fail ${c.FailureThreshold}${c.EnableSNI ? ' sni' : ''}`;
    }
    for (const [, a] of this.ofType('AWS::CloudWatch::Alarm')) {
      const p = a.Properties;
      const dims = (p.Dimensions as { Name: string; Value: unknown }[]).map((d) => `${d.Name}=${this.resolve(d.Value)}`).join(',');
      view.alarm = `${p.Namespace} ${p.MetricName}{${dims}} ${p.Statistic} over ${p.Period}s ${p.ComparisonOperator} ${p.Threshold} x${p.EvaluationPeriods} missing=${p.TreatMissingData} actions=${(p.AlarmActions ?? []).map((x: unknown) => this.resolve(x)).join(',')}`;
    }
    const records = this.ofType('AWS::Route53::RecordSet').map(([, r]) => {
      const p = r.Properties;
      const rr = Array.isArray(p.ResourceRecords) ? p.ResourceRecords.map((x: unknown) => this.resolve(x)).join(',') : accelerated(p.ResourceRecords, this.res);
      return `${p.Type} ${p.Name} ttl ${p.TTL} in ${p.HostedZoneId} -> ${rr}`;
    });
    if (records.length > 0) view.delegation = records.sort();
    // The accelerator.
    const [acc] = this.ofType('AWS::GlobalAccelerator::Accelerator');
    if (acc) {
      const listeners = new Map(this.ofType('AWS::GlobalAccelerator::Listener').map(([id, l]) => [id, l.Properties]));
      const groupsOf: Record<string, { healthCheck: string; endpoints: string[] }> = {};
      for (const [, g] of this.ofType('AWS::GlobalAccelerator::EndpointGroup')) {
        const p = g.Properties;
        const listener = listeners.get(p.ListenerArn['Fn::GetAtt'][0])!;
        groupsOf[`${listener.Protocol} ${p.EndpointGroupRegion}`] = {
          healthCheck: `${p.HealthCheckProtocol} ${p.HealthCheckPort}${p.HealthCheckPath ?? ''} every ${p.HealthCheckIntervalSeconds}s threshold ${p.ThresholdCount}`,
          endpoints: p.EndpointConfigurations.map((e: any) => `${this.resolve(e.EndpointId)}${e.ClientIPPreservationEnabled ? ' client-ip' : ''}`).sort(),
        };
      }
      view.accelerator = {
        name: acc[1].Properties.Name,
        ipAddresses: acc[1].Properties.IpAddresses ?? [],
        listeners: [...listeners.values()].map((l) => `${l.Protocol} ${l.PortRanges.map((r: any) => `${r.FromPort}-${r.ToPort}`).join(',')} affinity ${l.ClientAffinity}`).sort(),
        endpointGroups: groupsOf,
      };
    }
    return view;
  }
}

/** Fn::GetAtt [accelerator, Ipv4Addresses]: the accelerator's own addresses. */
function accelerated(v: any, res: Record<string, { Type: string }>): string {
  const [id, attr] = v?.['Fn::GetAtt'] ?? [];
  if (res[id]?.Type === 'AWS::GlobalAccelerator::Accelerator' && attr === 'Ipv4Addresses') return '<accelerator-addresses>';
  throw new Error(`cannot resolve records ${JSON.stringify(v)}`);
}
