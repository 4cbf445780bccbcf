// The Pulumi twin of anycdn-global: an AWS Global Accelerator with UDP and TCP listeners on 53,
// and per aws site one endpoint group per listener whose endpoints are that site's dns hosts.
// Their instance ids come from the site stacks' `instanceIds` output through a StackReference
// (the CDK app uses cross-region references for the same).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { acceleratorRetained, type AcceleratorShape } from '../cloud/shape.ts';

export interface GlobalArgs {
  shape: AcceleratorShape;
  byoip: boolean;
  /** The fully qualified name of a site's stack: <organization>/<project>/<site id>. */
  siteStack: (siteId: string) => string;
  provider: aws.Provider;
}

/**
 * The twin of DeletionPolicy and UpdateReplacePolicy Retain: a delete or a replacement leaves the
 * accelerator and its AWS-assigned addresses in the account (BYOIP: the operator's own).
 */
export function acceleratorOptions(byoip: boolean, provider: aws.Provider): pulumi.CustomResourceOptions {
  return { provider, ...(acceleratorRetained(byoip) ? { retainOnDelete: true } : {}) };
}

export function globalAccelerator(args: GlobalArgs) {
  const { shape, provider } = args;
  const opts = { provider };
  const accelerator = new aws.globalaccelerator.Accelerator('accelerator', {
    name: shape.name,
    ipAddressType: 'IPV4',
    enabled: true,
    ...(args.byoip ? { ipAddresses: shape.byoipAddresses } : {}),
  }, acceleratorOptions(args.byoip, provider));
  const listeners = shape.listeners.map((l) => [l.protocol, new aws.globalaccelerator.Listener(`dns-${l.protocol.toLowerCase()}`, {
    acceleratorArn: accelerator.arn,
    protocol: l.protocol,
    portRanges: [{ fromPort: l.port, toPort: l.port }],
    clientAffinity: l.clientAffinity,
  }, opts)] as const);
  const hc = shape.healthCheck;
  for (const site of shape.sites) {
    const ref = new pulumi.StackReference(`${site.id}-stack`, { name: args.siteStack(site.id) });
    const ids = ref.requireOutput('instanceIds').apply((v) => v as Record<string, string>);
    const endpointId = (host: string) => ids.apply((m) => {
      const found = m[host];
      if (typeof found !== 'string') throw new Error(`stack ${args.siteStack(site.id)} exports no instance id for ${host}; run pulumi up -s ${site.id} first`);
      return found;
    });
    for (const [protocol, listener] of listeners) {
      new aws.globalaccelerator.EndpointGroup(`${site.id}-${protocol.toLowerCase()}`, {
        listenerArn: listener.id,
        endpointGroupRegion: site.region,
        healthCheckProtocol: hc.protocol,
        healthCheckPort: hc.port,
        healthCheckPath: hc.path,
        healthCheckIntervalSeconds: hc.intervalSec,
        thresholdCount: hc.threshold,
        endpointConfigurations: site.dnsHosts.map((host) => ({ endpointId: endpointId(host), clientIpPreservationEnabled: shape.preserveClientIp })),
      }, opts);
    }
  }
  if (shape.delegation) {
    const d = shape.delegation;
    new aws.route53.Record('delegation', { zoneId: d.hostedZoneId, name: `${d.zone}.`, type: 'NS', ttl: d.ttlSec, records: d.nameservers.map((ns) => `${ns}.`) }, opts);
    // The child zone's own records for each name server: A and AAAA at its anycast prefix.
    for (const ns of d.glue) {
      new aws.route53.Record(`glue-${ns.name}`, { zoneId: d.hostedZoneId, name: `${ns.name}.`, type: 'A', ttl: d.ttlSec, records: ns.a }, opts);
      if (ns.aaaa.length > 0) new aws.route53.Record(`glue6-${ns.name}`, { zoneId: d.hostedZoneId, name: `${ns.name}.`, type: 'AAAA', ttl: d.ttlSec, records: ns.aaaa }, opts);
    }
  }
  return {
    anycastAddresses: accelerator.ipSets.apply((sets) => sets.flatMap((s) => s.ipAddresses ?? []).join(' ')),
    acceleratorDnsName: accelerator.dnsName,
  };
}
