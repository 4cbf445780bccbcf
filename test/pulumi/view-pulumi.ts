// The normalized view (view.ts) of a Pulumi stack run under the mocks: ids and names resolved to
// the same symbols the CDK reader uses, bundle bytes read from the file assets the program uploads.
import { READINESS_SID } from '../../lib/pulumi/aws-site.ts';
import { readFileSync } from 'node:fs';
import { sha256, type HostBundle } from '../../lib/cloud/bundle.ts';
import type { Recorded, Run } from './harness.ts';
import { statementLine, type HostView, type StackView } from './view.ts';

const T = {
  bucket: 'aws:s3/bucket:Bucket',
  object: 'aws:s3/bucketObjectv2:BucketObjectv2',
  instance: 'aws:ec2/instance:Instance',
};

/** S3's canned ACL names as CloudFormation spells them. */
const ACLS: Record<string, string> = { 'log-delivery-write': 'LogDeliveryWrite', private: 'Private' };

/** `others`: the runs of the stacks this one references (global: the aws sites). */
export async function pulumiView(run: Run, bundles: HostBundle[], others: Run[] = []): Promise<StackView> {
  const bySha = new Map(bundles.map((b) => [b.sha256, b.host]));
  const objects = new Map<string, Buffer>();
  for (const o of run.ofType(T.object)) {
    const source = o.inputs.source as { path: Promise<string> } | undefined;
    objects.set(`${o.inputs.bucket}/${o.inputs.key}`, source ? readFileSync(await source.path) : Buffer.from(String(o.inputs.content), 'utf8'));
  }
  const configBuckets = run.ofType(T.bucket).filter((b) => b.name === `${run.stack}-config`).map((b) => b.id);

  // Ids of this run (and referenced runs) as symbols.
  const symbols = new Map<string, string>();
  for (const [r, stack] of [run, ...others].flatMap((x) => x.resources.map((r) => [r, x.stack] as const))) {
    if (r.type === 'aws:ec2/subnet:Subnet') symbols.set(r.id, `<subnet:${r.inputs.cidrBlock}>`);
    if (r.type === 'aws:ec2/securityGroup:SecurityGroup') symbols.set(r.id, `<sg:${groupName(r, stack)}>`);
    if (r.type === T.instance) symbols.set(r.id, `<instance:${r.inputs.tags.Name}>`);
    if (r.type === 'aws:route53/healthCheck:HealthCheck') symbols.set(r.id, '<health-check>');
  }
  for (const b of configBuckets) symbols.set(b, '<config-bucket>');
  for (const b of run.ofType(T.bucket).filter((x) => x.name === 'origin-access-logs')) symbols.set(b.id, '<access-logs-bucket>');
  const bundleSymbol = (bytes: Buffer) => {
    const sha = sha256(bytes);
    return `<bundle:${bySha.get(sha) ?? `unknown sha256=${sha}`}>`;
  };
  const sym = (text: string): string => {
    let out = text;
    for (const [path, bytes] of objects) out = out.replaceAll(`arn:aws:s3:::${path}`, bundleSymbol(bytes)).replaceAll(`s3://${path}`, bundleSymbol(bytes));
    for (const [id, s] of symbols) out = out.replaceAll(id, s);
    return out;
  };
  const deep = (v: any): any => (typeof v === 'string' ? sym(v) : Array.isArray(v) ? v.map(deep) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)])) : v);
  const statements = (policy: string) => (JSON.parse(policy).Statement as any[]).map((st) => statementLine(deep(st))).sort();

  const view: StackView = { iam: {}, bundles: {} };
  const instances = run.ofType(T.instance);
  if (instances.length > 0) {
    view.hosts = {};
    for (const i of instances) {
      const p = i.inputs;
      const host = p.tags.Name as string;
      const profile = run.resources.find((r) => r.type === 'aws:iam/instanceProfile:InstanceProfile' && r.state.name === p.iamInstanceProfile)!;
      const role = run.resources.find((r) => r.type === 'aws:iam/role:Role' && r.id === profile.inputs.role)!;
      const ud = p.userData as string;
      const field = (name: string) => new RegExp(`^${name}='([^']*)'$`, 'm').exec(ud)?.[1] ?? '<missing>';
      const root = p.rootBlockDevice;
      const hv: HostView = {
        address: `claims ${field('ADDRESS')} in ${field('SUBNET')} on ${field('INTERFACE')}, pins ${p.privateIp ?? 'none'}`,
        image: `${p.ami} key ${/-instance-([0-9a-f]{12})$/.exec(i.name)?.[1] ?? '<none>'}`,
        forward: `tcp ${field('FORWARD_TCP')} udp ${field('FORWARD_UDP')}`,
        subnet: sym(p.subnetId),
        publicIp: p.associatePublicIpAddress === true ? 'yes' : p.associatePublicIpAddress === false ? 'none' : 'subnet default',
        egress: run.ofType('aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment').filter((x) => x.inputs.instanceId === i.id).map((x) => {
          const eni = run.byId(x.inputs.networkInterfaceId)!;
          const same = JSON.stringify([...eni.inputs.securityGroups].sort()) === JSON.stringify([...p.vpcSecurityGroupIds].sort());
          return `${sym(eni.inputs.subnetId)} device ${x.inputs.deviceIndex} groups ${same ? 'as primary' : 'other'}`;
        }).join(', ') || 'none',
        instanceType: p.instanceType,
        groups: (p.vpcSecurityGroupIds as string[]).map(sym).sort(),
        metadata: `${p.metadataOptions.httpEndpoint} tokens=${p.metadataOptions.httpTokens} hops=${p.metadataOptions.httpPutResponseHopLimit}`,
        rootVolume: `${root.volumeSize} GiB ${root.volumeType}${root.encrypted ? ' encrypted' : ''}${root.deleteOnTermination ? ' delete-on-termination' : ''}`,
        monitoring: p.monitoring === true,
        disableApiTermination: p.disableApiTermination === true,
        rolePath: role.inputs.path ?? '/',
        managedPolicies: run.ofType('aws:iam/rolePolicyAttachment:RolePolicyAttachment').filter((a) => a.inputs.role === role.id).map((a) => sym(a.inputs.policyArn)).sort(),
        packages: field('PACKAGES'),
        units: field('UNITS'),
      };
      view.hosts[host] = hv;
      // Less the one statement CDK has no twin of: finding the Pulumi health gate's handle (CDK
      // writes the handle's URL into the user data); the gate itself is asserted in stacks.test.ts.
      const own = (policy: string) => JSON.stringify({ ...JSON.parse(policy), Statement: (JSON.parse(policy).Statement as any[]).filter((st) => st.Sid !== READINESS_SID) });
      view.iam[`role:${host}`] = run.ofType('aws:iam/rolePolicy:RolePolicy').filter((x) => x.inputs.role === role.id).flatMap((x) => statements(own(x.inputs.policy))).sort();
      const url = /^s3:\/\/(.+)$/.exec(field('BUNDLE_URL'))?.[1];
      const bytes = url ? objects.get(url) : undefined;
      view.bundles[host] = { published: bytes ? sha256(bytes) : `<no object at ${field('BUNDLE_URL')}>`, verified: field('BUNDLE_SHA256') };
    }
  }

  const vpcs = run.ofType('aws:ec2/vpc:Vpc');
  if (vpcs.length > 0) {
    view.network = [
      ...vpcs.map((v) => `vpc ${v.inputs.cidrBlock} dns-hostnames=${v.inputs.enableDnsHostnames} dns-support=${v.inputs.enableDnsSupport}`),
      ...run.ofType('aws:ec2/subnet:Subnet').map((n) => `subnet ${n.inputs.cidrBlock} in ${n.inputs.availabilityZone}${n.inputs.mapPublicIpOnLaunch ? ' public-ip' : ''}`),
      ...run.ofType('aws:ec2/route:Route').map((r) => `route ${r.inputs.destinationCidrBlock} via ${r.inputs.natGatewayId ? 'nat-gateway' : run.byId(r.inputs.gatewayId)?.type === 'aws:ec2/internetGateway:InternetGateway' ? 'internet-gateway' : 'other'}`),
      ...run.ofType('aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation').map((b) => `vpc-block ${b.inputs.cidrBlock}`),
      ...run.ofType('aws:ec2/subnetCidrReservation:SubnetCidrReservation').map((r) => `reservation ${r.inputs.cidrBlock} ${r.inputs.reservationType} in ${sym(r.inputs.subnetId)}`),
      ...run.ofType('aws:ec2/natGateway:NatGateway').map((n) => `nat-gateway ${n.inputs.connectivityType} in ${sym(n.inputs.subnetId)}`),
      ...run.ofType('aws:ec2/vpcEndpoint:VpcEndpoint').map((e) => `endpoint ${e.inputs.serviceName} ${e.inputs.vpcEndpointType} on ${e.inputs.routeTableIds.length} route table(s)`),
      ...run.ofType('aws:ec2/flowLog:FlowLog').map((f) => `flow-log ${f.inputs.vpcId ? 'VPC' : 'other'} ${f.inputs.trafficType} to ${f.inputs.logDestinationType}`),
    ].sort();
  }
  const groups = run.ofType('aws:ec2/securityGroup:SecurityGroup');
  if (groups.length > 0) {
    view.securityGroups = {};
    const fmt = (r: Recorded) => `${r.inputs.ipProtocol}${r.inputs.fromPort !== undefined ? `/${r.inputs.fromPort}-${r.inputs.toPort}` : ''}`;
    const peer = (r: Recorded) => r.inputs.cidrIpv4 ?? sym(r.inputs.referencedSecurityGroupId);
    for (const g of groups) {
      const rules = [
        ...run.ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').filter((r) => r.inputs.securityGroupId === g.id).map((r) => `in ${fmt(r)} from ${peer(r)}`),
        ...run.ofType('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule').filter((r) => r.inputs.securityGroupId === g.id).map((r) => `out ${fmt(r)} to ${peer(r)}`),
      ];
      view.securityGroups[groupName(g, run.stack)] = { description: g.inputs.description, rules: rules.sort() };
    }
  }

  // Buckets and their policies; a site's config bucket only carries the bundles (see view.ts).
  const buckets = run.ofType(T.bucket).filter((b) => !configBuckets.includes(b.id));
  if (buckets.length > 0) {
    view.buckets = {};
    for (const b of buckets) {
      const sibling = (type: string) => run.resources.find((r) => r.type === type && r.inputs.bucket === b.id)?.inputs;
      const pab = sibling('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock') ?? {};
      const acl = sibling('aws:s3/bucketAcl:BucketAcl');
      const lifecycle = sibling('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration');
      const logging = sibling('aws:s3/bucketLogging:BucketLogging');
      view.buckets[sym(b.id)] = [
        `versioning=${sibling('aws:s3/bucketVersioning:BucketVersioning')?.versioningConfiguration?.status ?? 'none'}`,
        `sse=${sibling('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration')?.rules?.[0]?.applyServerSideEncryptionByDefault?.sseAlgorithm ?? 'none'}`,
        `block-public=${[pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets].every((x) => x === true)}`,
        `ownership=${sibling('aws:s3/bucketOwnershipControls:BucketOwnershipControls')?.rule?.objectOwnership ?? 'none'}`,
        ...(acl ? [`acl=${ACLS[acl.acl] ?? acl.acl}`] : []),
        ...(lifecycle ? [`lifecycle=${(lifecycle.rules as any[]).map((r) => `${r.status}:expire-${r.expiration?.days}d`).join(',')}`] : []),
        ...(logging ? [`logging=${sym(logging.targetBucket)}/${logging.targetPrefix}`] : []),
      ].join(' ');
      const policy = sibling('aws:s3/bucketPolicy:BucketPolicy');
      if (policy) view.iam[`bucket:${sym(b.id)}`] = statements(policy.policy);
    }
  }
  for (const mp of run.ofType('aws:iam/policy:Policy')) view.iam[`managed-policy:${mp.inputs.description}`] = statements(mp.inputs.policy);

  const pointers = run.ofType('aws:ssm/parameter:Parameter');
  if (pointers.length > 0) {
    view.bundlePointers = pointers.map((p) => `${p.inputs.name} ${p.inputs.type} -> ${sym(String(p.inputs.insecureValue))}`).sort();
    for (const p of pointers) {
      const host = /^\/anycdn\/[^/]+\/([^/]+)\/bundle$/.exec(p.inputs.name)?.[1] ?? `<bad name ${p.inputs.name}>`;
      const m = /^s3:\/\/(\S+) ([0-9a-f]{64})$/.exec(String(p.inputs.insecureValue));
      const bytes = m ? objects.get(m[1]!) : undefined;
      view.bundles[host] = { published: bytes ? sha256(bytes) : `<no object at ${String(p.inputs.insecureValue)}>`, verified: m?.[2] ?? '' };
    }
  }

  for (const h of run.ofType('aws:route53/healthCheck:HealthCheck')) {
    const c = h.inputs;
    view.healthCheck = `${c.type} ${c.ipAddress}:${c.port}${c.resourcePath} host ${c.fqdn} every ${c.requestInterval}s fail ${c.failureThreshold}${c.enableSni ? ' sni' : ''}`;
  }
  for (const a of run.ofType('aws:cloudwatch/metricAlarm:MetricAlarm')) {
    const p = a.inputs;
    const dims = Object.entries(p.dimensions as Record<string, string>).map(([k, v]) => `${k}=${sym(v)}`).join(',');
    view.alarm = `${p.namespace} ${p.metricName}{${dims}} ${p.statistic} over ${p.period}s ${p.comparisonOperator} ${p.threshold} x${p.evaluationPeriods} missing=${p.treatMissingData} actions=${(p.alarmActions ?? []).map(sym).join(',')}`;
  }

  const [acc] = run.ofType('aws:globalaccelerator/accelerator:Accelerator');
  const accAddresses = JSON.stringify(((acc?.state.ipSets ?? []) as { ipAddresses: string[] }[]).flatMap((x) => x.ipAddresses));
  const records = run.ofType('aws:route53/record:Record').map((r) => {
    const p = r.inputs;
    const rr = JSON.stringify(p.records) === accAddresses ? '<accelerator-addresses>' : (p.records as string[]).join(',');
    return `${p.type} ${p.name} ttl ${p.ttl} in ${p.zoneId} -> ${rr}`;
  });
  if (records.length > 0) view.delegation = records.sort();
  if (acc) {
    const listeners = run.ofType('aws:globalaccelerator/listener:Listener');
    const groupsOf: NonNullable<StackView['accelerator']>['endpointGroups'] = {};
    for (const g of run.ofType('aws:globalaccelerator/endpointGroup:EndpointGroup')) {
      const p = g.inputs;
      const listener = run.byId(p.listenerArn)!;
      groupsOf[`${listener.inputs.protocol} ${p.endpointGroupRegion}`] = {
        healthCheck: `${p.healthCheckProtocol} ${p.healthCheckPort}${p.healthCheckPath ?? ''} every ${p.healthCheckIntervalSeconds}s threshold ${p.thresholdCount}`,
        endpoints: (p.endpointConfigurations as any[]).map((e) => `${sym(e.endpointId)}${e.clientIpPreservationEnabled ? ' client-ip' : ''}`).sort(),
      };
    }
    view.accelerator = {
      name: acc.inputs.name,
      ipAddresses: acc.inputs.ipAddresses ?? [],
      listeners: listeners.map((l) => `${l.inputs.protocol} ${(l.inputs.portRanges as any[]).map((r) => `${r.fromPort}-${r.toPort}`).join(',')} affinity ${l.inputs.clientAffinity}`).sort(),
      endpointGroups: groupsOf,
    };
  }
  return view;
}

function groupName(r: Recorded, site: string): string {
  const prefix = `${site}-`;
  if (!r.name.startsWith(prefix) || !r.name.endsWith('-sg')) throw new Error(`unexpected security group name ${r.name}`);
  return r.name.slice(prefix.length, -'-sg'.length);
}
