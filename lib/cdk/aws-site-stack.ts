// anycdn-<site> for an aws site: the VPC with the model's subnets, one security group per role,
// and an EC2 instance per host that applies its rendered bundle. The site's Elastic IP is
// pre-allocated (vip.elasticIp): this stack only lets the lb pair move it.
import { CfnOutput, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { subnetOf } from '../cloud/network.ts';
import type { GroupName, RulePeer, SecurityRule } from '../cloud/security.ts';
import type { AwsSiteShape } from '../cloud/shape.ts';
import { Host } from './host.ts';
import { acknowledge } from './nag.ts';
import { SiteNetwork } from './network.ts';

export interface AwsSiteStackProps extends StackProps {
  shape: AwsSiteShape;
  zones: string[];
  /** The pinned Debian 12 AMI of the site's region. */
  ami: string;
  /** The origin bucket and its replica, which cache roles may read. */
  originBuckets?: string[];
}

export class AwsSiteStack extends Stack {
  /** By host name. */
  readonly hosts = new Map<string, Host>();

  constructor(scope: Construct, id: string, props: AwsSiteStackProps) {
    super(scope, id, props);
    const { shape } = props;
    Tags.of(this).add('anycdn:site', shape.site.id);
    const network = new SiteNetwork(this, 'Network', { siteId: shape.site.id, region: shape.region, shape: shape.network, zones: props.zones });

    const groups = new Map<GroupName, ec2.SecurityGroup>();
    for (const g of shape.securityGroups) {
      groups.set(g.name, new ec2.SecurityGroup(this, `${g.name}-sg`, { vpc: network.vpc, description: g.description, allowAllOutbound: false }));
    }
    const peer = (p: RulePeer): ec2.IPeer => ('anyIpv4' in p ? ec2.Peer.anyIpv4() : 'cidrIpv4' in p ? ec2.Peer.ipv4(p.cidrIpv4) : groups.get(p.group)!);
    for (const g of shape.securityGroups) {
      const sg = groups.get(g.name)!;
      for (const r of g.ingress) sg.addIngressRule(peer(r.peer), port(r), r.description);
      for (const r of g.egress) sg.addEgressRule(peer(r.peer), port(r), r.description);
      if (g.ingress.some((r) => 'anyIpv4' in r.peer)) {
        acknowledge(sg, 'AwsSolutions-EC23', `the ${g.name} hosts serve the public (${g.ingress.filter((r) => 'anyIpv4' in r.peer).map(describe).join(', ')}); nothing else is open to the internet`);
      }
    }

    const vipSubnetName = subnetOf(shape.network, shape.site.vip.address)?.name;
    const vipSubnet = vipSubnetName ? network.subnets.get(vipSubnetName) : undefined;
    if (!vipSubnet) throw new Error(`internal: the VIP of ${shape.site.id} is outside its subnets`);
    const machineImage = ec2.MachineImage.genericLinux({ [shape.region]: props.ami });

    let previous: Host | undefined;
    for (const h of shape.hosts) {
      const host = new Host(this, h.host.name, {
        site: shape,
        shape: h,
        vpc: network.vpc,
        subnet: network.subnets.get(h.subnet)!.subnet,
        subnets: new Map([...network.subnets].map(([name, s]) => [name, s.cfn])),
        securityGroups: h.groups.map((g) => groups.get(g)!),
        egressSubnet: network.egressSubnets.get(h.egress.subnet)!,
        egressReady: network.hostsReady,
        machineImage,
        ami: props.ami,
        ...(props.originBuckets ? { originBuckets: props.originBuckets } : {}),
      });
      // One host at a time, each after the previous one reported healthy: a change that restarts
      // instances never takes two hosts (and so never both lb hosts) down together, and a host
      // that fails its checks fails the deployment, which rolls back.
      if (previous) host.instance.instance.node.addDependency(previous.ready);
      previous = host;
      this.hosts.set(h.host.name, host);
    }

    new CfnOutput(this, 'ImageVip', { value: `${shape.site.vip.address} (Elastic IP ${shape.elasticIp.address}, ${shape.elasticIp.allocationId})`, description: 'The VIP keepalived holds and the Elastic IP DNS publishes' });
  }
}

function port(r: SecurityRule): ec2.Port {
  if (r.protocol === 'vrrp') return new ec2.Port({ protocol: ec2.Protocol.VRRP, stringRepresentation: 'VRRP' });
  if (r.port === undefined) throw new Error(`internal: ${r.protocol} rule without a port`);
  return r.protocol === 'tcp' ? ec2.Port.tcp(r.port) : ec2.Port.udp(r.port);
}

function describe(r: SecurityRule): string {
  return r.protocol === 'vrrp' ? 'vrrp' : `${r.port}/${r.protocol}`;
}
