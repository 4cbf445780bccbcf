// anycdn-global: the anycast entry for aws sites. An AWS Global Accelerator (announced over BGP by
// AWS itself, BYOIP ready) with UDP and TCP listeners on port 53, and per aws site one endpoint
// group per listener whose endpoints are that site's dns hosts. It lives in us-west-2 and
// references the instances in the sites' regions through CDK's cross-region references.
import { CfnOutput, Duration, Fn, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as ga from 'aws-cdk-lib/aws-globalaccelerator';
import * as endpoints from 'aws-cdk-lib/aws-globalaccelerator-endpoints';
import type { Construct } from 'constructs';
import type { AwsSiteStack } from './aws-site-stack.ts';

export interface GlobalStackProps extends StackProps {
  sites: { id: string; region: string; stack: AwsSiteStack; dnsHosts: string[] }[];
  /** BYOIP: the accelerator takes these addresses (the model's anycast IPv4). */
  byoipAddresses?: string[];
}

export class GlobalStack extends Stack {
  constructor(scope: Construct, id: string, props: GlobalStackProps) {
    super(scope, id, props);
    Tags.of(this).add('anycdn:part', 'global');
    const accelerator = new ga.Accelerator(this, 'Accelerator', {
      acceleratorName: 'anycdn-dns',
      ...(props.byoipAddresses ? { ipAddresses: props.byoipAddresses } : {}),
    });
    const listeners = [ga.ConnectionProtocol.UDP, ga.ConnectionProtocol.TCP].map(
      (protocol) => [protocol, new ga.Listener(this, `Dns-${protocol}`, { accelerator, protocol, portRanges: [{ fromPort: 53 }], clientAffinity: ga.ClientAffinity.NONE })] as const,
    );
    for (const site of props.sites) {
      for (const [protocol, listener] of listeners) {
        new ga.EndpointGroup(this, `${site.id}-${protocol}`, {
          listener,
          region: site.region,
          // Knot answers TCP on 53; a dns host whose Knot is down leaves the group.
          healthCheckProtocol: ga.HealthCheckProtocol.TCP,
          healthCheckPort: 53,
          healthCheckInterval: Duration.seconds(10),
          healthCheckThreshold: 3,
          endpoints: site.dnsHosts.map(
            (name) => new endpoints.InstanceEndpoint(site.stack.hosts.get(name)!.instance, { preserveClientIp: true }),
          ),
        });
      }
    }
    new CfnOutput(this, 'AnycastAddresses', { value: Fn.join(' ', accelerator.ipv4Addresses ?? []), description: 'The accelerator addresses: the in-zone name servers\' glue must point here' });
    new CfnOutput(this, 'AcceleratorDnsName', { value: accelerator.dnsName });
  }
}
