// The VPC of an aws site from its cloud shape, in L1 resources: the subnets keep the model's exact
// prefixes (the L2 Vpc allocates its own), so every host keeps the address the configs name. No
// subnet maps public addresses. The model subnets route to the internet gateway (the Elastic IP on
// the VIP needs it); the egress subnets, the hosts' second interfaces, route to one NAT gateway.
import { Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, DependencyGroup } from 'constructs';
import { endpointService, type NetworkShape } from '../cloud/network.ts';
import { acknowledge } from './nag.ts';

export class SiteNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  /** By model subnet name. */
  readonly subnets: Map<string, { subnet: ec2.ISubnet; cfn: ec2.CfnSubnet }>;
  /** The egress subnets by egress CIDR (lib/cloud/network.ts). */
  readonly egressSubnets: Map<string, ec2.CfnSubnet>;
  /** The egress subnets' default route: instances start after it, so their bootstrap has egress. */
  readonly egressRoute: ec2.CfnRoute;
  /**
   * What every instance waits for: the egress route, and the explicit reservations of the model's
   * addresses (an instance launched before them could get one as its own primary address).
   */
  readonly hostsReady: DependencyGroup;

  constructor(scope: Construct, id: string, props: { siteId: string; region: string; shape: NetworkShape; zones: string[] }) {
    super(scope, id);
    const { shape, zones } = props;
    const vpc = new ec2.CfnVPC(this, 'Vpc', { cidrBlock: shape.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true });
    Tags.of(vpc).add('Name', `anycdn-${props.siteId}`);
    const igw = new ec2.CfnInternetGateway(this, 'InternetGateway');
    const attachment = new ec2.CfnVPCGatewayAttachment(this, 'InternetGatewayAttachment', { vpcId: vpc.ref, internetGatewayId: igw.ref });
    const routes = new ec2.CfnRouteTable(this, 'PublicRoutes', { vpcId: vpc.ref });
    const defaultRoute = new ec2.CfnRoute(this, 'DefaultRoute', { routeTableId: routes.ref, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.ref });
    defaultRoute.node.addDependency(attachment);

    this.subnets = new Map();
    for (const s of shape.subnets) {
      const zone = zones[s.azIndex % zones.length]!;
      // No public addresses: clients reach only the Elastic IP on the VIP and the accelerator.
      const cfn = new ec2.CfnSubnet(this, `Subnet-${s.name}`, { vpcId: vpc.ref, cidrBlock: s.cidr, availabilityZone: zone, mapPublicIpOnLaunch: false });
      Tags.of(cfn).add('Name', `anycdn-${props.siteId}-${s.name}`);
      acknowledge(cfn, 'CloudFormation-Validate::W3010', 'zones are pinned in the site model on purpose: synth stays offline and the model decides each subnet prefix');
      new ec2.CfnSubnetRouteTableAssociation(this, `Subnet-${s.name}-Routes`, { subnetId: cfn.ref, routeTableId: routes.ref });
      const subnet = ec2.Subnet.fromSubnetAttributes(this, `Subnet-${s.name}-Ref`, { subnetId: cfn.ref, availabilityZone: zone, routeTableId: routes.ref });
      this.subnets.set(s.name, { subnet, cfn });
    }
    const reservations = shape.reservations.map((r) => {
      const res = new ec2.CfnSubnetCidrReservation(this, `Reserve-${r.cidr.replace(/\/32$/, '')}`, {
        subnetId: this.subnets.get(r.subnet)!.cfn.ref,
        cidr: r.cidr,
        reservationType: 'explicit',
        description: `anycdn ${props.siteId}: a model address, claimed by a host or keepalived, never picked by EC2`,
      });
      // A recent type (aws-cdk-lib's class dates from 2.272, September 2026): no region file of
      // cfn-lint 1.51 (May 2026) lists it, and aws-cdk-lib's validator does not know it either.
      acknowledge(res, 'CloudFormation-Validate::F3006', 'AWS::EC2::SubnetCidrReservation is newer than the validator\'s registry data, in every region');
      res.addMetadata('cfn-lint', { config: { ignore_checks: ['E3006'] } });
      return res;
    });

    // Egress: the VPC's second block holds the NAT gateway's public subnet and, per zone with
    // hosts, a private subnet for the hosts' second interfaces, routed to the NAT gateway.
    const egress = shape.egress;
    const block = new ec2.CfnVPCCidrBlock(this, 'EgressBlock', { vpcId: vpc.ref, cidrBlock: egress.cidr });
    const natSubnet = new ec2.CfnSubnet(this, 'Subnet-nat', { vpcId: vpc.ref, cidrBlock: egress.natSubnet.cidr, availabilityZone: zones[egress.natSubnet.zoneIndex]!, mapPublicIpOnLaunch: false });
    natSubnet.node.addDependency(block);
    Tags.of(natSubnet).add('Name', `anycdn-${props.siteId}-nat`);
    acknowledge(natSubnet, 'CloudFormation-Validate::W3010', 'zones are pinned in the site model on purpose: synth stays offline and the subnets keep their zone');
    new ec2.CfnSubnetRouteTableAssociation(this, 'Subnet-nat-Routes', { subnetId: natSubnet.ref, routeTableId: routes.ref });
    const natAddress = new ec2.CfnEIP(this, 'NatAddress', { domain: 'vpc' });
    Tags.of(natAddress).add('Name', `anycdn-${props.siteId}-nat`);
    const nat = new ec2.CfnNatGateway(this, 'NatGateway', { subnetId: natSubnet.ref, allocationId: natAddress.attrAllocationId, connectivityType: 'public' });
    nat.node.addDependency(attachment);
    Tags.of(nat).add('Name', `anycdn-${props.siteId}`);
    const egressRoutes = new ec2.CfnRouteTable(this, 'EgressRoutes', { vpcId: vpc.ref });
    this.egressRoute = new ec2.CfnRoute(this, 'EgressDefaultRoute', { routeTableId: egressRoutes.ref, destinationCidrBlock: '0.0.0.0/0', natGatewayId: nat.ref });
    this.hostsReady = new DependencyGroup(this.egressRoute, ...reservations);
    this.egressSubnets = new Map();
    for (const e of egress.subnets) {
      const cfn = new ec2.CfnSubnet(this, `Subnet-egress-${e.zoneIndex}`, { vpcId: vpc.ref, cidrBlock: e.cidr, availabilityZone: zones[e.zoneIndex]!, mapPublicIpOnLaunch: false });
      cfn.node.addDependency(block);
      Tags.of(cfn).add('Name', `anycdn-${props.siteId}-egress-${zones[e.zoneIndex]!}`);
      acknowledge(cfn, 'CloudFormation-Validate::W3010', 'zones are pinned in the site model on purpose: synth stays offline and each egress subnet sits in its hosts\' zone');
      new ec2.CfnSubnetRouteTableAssociation(this, `Subnet-egress-${e.zoneIndex}-Routes`, { subnetId: cfn.ref, routeTableId: egressRoutes.ref });
      this.egressSubnets.set(e.cidr, cfn);
    }

    // Both tables reach the region's S3 without the NAT gateway (and its per-GB charge).
    for (const e of shape.gatewayEndpoints) {
      new ec2.CfnVPCEndpoint(this, `Endpoint-${e}`, { vpcId: vpc.ref, serviceName: endpointService(props.region, e), vpcEndpointType: 'Gateway', routeTableIds: [routes.ref, egressRoutes.ref] });
    }
    const all = shape.subnets.map((s) => this.subnets.get(s.name)!);
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'VpcRef', {
      vpcId: vpc.ref,
      vpcCidrBlock: shape.vpcCidr,
      availabilityZones: shape.subnets.map((s) => zones[s.azIndex % zones.length]!),
      publicSubnetIds: all.map((x) => x.cfn.ref),
      publicSubnetRouteTableIds: all.map(() => routes.ref),
    });

    new ec2.FlowLog(this, 'FlowLog', {
      resourceType: ec2.FlowLogResourceType.fromVpc(this.vpc),
      trafficType: ec2.FlowLogTrafficType.REJECT,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'FlowLogGroup', { retention: logs.RetentionDays.ONE_MONTH })),
    });
  }
}
