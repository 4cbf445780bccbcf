// anycdn-global: the anycast entry for aws sites. An AWS Global Accelerator (announced over BGP by
// AWS itself, BYOIP ready) with UDP and TCP listeners on port 53, and per aws site one endpoint
// group per listener whose endpoints are that site's dns hosts. It lives in us-west-2 and
// references the instances in the sites' regions through CDK's cross-region references.
import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as ga from 'aws-cdk-lib/aws-globalaccelerator';
import * as endpoints from 'aws-cdk-lib/aws-globalaccelerator-endpoints';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { acceleratorRetained, BYOIP_LIMIT, type AcceleratorShape } from '../cloud/shape.ts';
import { CONTEXT, ContextError } from './context.ts';
import type { AwsSiteStack } from './aws-site-stack.ts';

export interface GlobalStackProps extends StackProps {
  shape: AcceleratorShape;
  /** The aws site stacks, by site id. */
  siteStacks: Map<string, AwsSiteStack>;
  /** BYOIP: the accelerator takes the model's anycast IPv4 addresses (shape.byoipAddresses). */
  byoip: boolean;
}

export class GlobalStack extends Stack {
  constructor(scope: Construct, id: string, props: GlobalStackProps) {
    super(scope, id, props);
    Tags.of(this).add('anycdn:part', 'global');
    const { shape } = props;
    if (props.byoip && shape.byoipAddresses.length > BYOIP_LIMIT) {
      throw new ContextError(CONTEXT.globalByoip, `Global Accelerator takes at most ${BYOIP_LIMIT} BYOIP addresses, the model has ${shape.byoipAddresses.length} anycast prefixes (${shape.byoipAddresses.join(', ')}); set it to false or announce fewer prefixes`);
    }
    const accelerator = new ga.Accelerator(this, 'Accelerator', {
      acceleratorName: shape.name,
      ...(props.byoip ? { ipAddresses: shape.byoipAddresses } : {}),
    });
    // DeletionPolicy and UpdateReplacePolicy Retain: the AWS-assigned addresses outlive the stack.
    if (acceleratorRetained(props.byoip)) accelerator.applyRemovalPolicy(RemovalPolicy.RETAIN);
    const listeners = shape.listeners.map(
      (l) => [l.protocol, new ga.Listener(this, `Dns-${l.protocol}`, { accelerator, protocol: l.protocol as ga.ConnectionProtocol, portRanges: [{ fromPort: l.port }], clientAffinity: l.clientAffinity as ga.ClientAffinity })] as const,
    );
    const hc = shape.healthCheck;
    for (const site of shape.sites) {
      const stack = props.siteStacks.get(site.id)!;
      for (const [protocol, listener] of listeners) {
        new ga.EndpointGroup(this, `${site.id}-${protocol}`, {
          listener,
          region: site.region,
          healthCheckProtocol: hc.protocol as ga.HealthCheckProtocol,
          healthCheckPort: hc.port,
          healthCheckPath: hc.path,
          healthCheckInterval: Duration.seconds(hc.intervalSec),
          healthCheckThreshold: hc.threshold,
          endpoints: site.dnsHosts.map(
            (name) => new endpoints.InstanceEndpoint(stack.hosts.get(name)!.instance, { preserveClientIp: shape.preserveClientIp }),
          ),
        });
      }
    }
    if (shape.delegation) {
      const d = shape.delegation;
      new route53.CfnRecordSet(this, 'Delegation', {
        hostedZoneId: d.hostedZoneId,
        name: `${d.zone}.`,
        type: 'NS',
        ttl: String(d.ttlSec),
        resourceRecords: d.nameservers.map((ns) => `${ns}.`),
      });
      // The glue is the child zone's own records for each name server: the addresses of its anycast
      // prefix, A and AAAA (RFC 2182: one bad prefix never takes out every name server).
      for (const ns of d.glue) {
        new route53.CfnRecordSet(this, `Glue-${ns.name}`, { hostedZoneId: d.hostedZoneId, name: `${ns.name}.`, type: 'A', ttl: String(d.ttlSec), resourceRecords: ns.a });
        if (ns.aaaa.length > 0) new route53.CfnRecordSet(this, `Glue6-${ns.name}`, { hostedZoneId: d.hostedZoneId, name: `${ns.name}.`, type: 'AAAA', ttl: String(d.ttlSec), resourceRecords: ns.aaaa });
      }
    }
    new CfnOutput(this, 'AnycastAddresses', { value: Fn.join(' ', accelerator.ipv4Addresses ?? []), description: 'The accelerator addresses (its own, or the anycast ones with BYOIP)' });
    new CfnOutput(this, 'AcceleratorDnsName', { value: accelerator.dnsName });
  }
}
