// cdk-nag's own rules for "nothing public but the service", which the AwsSolutions pack leaves
// out (the NIST 800-53 and HIPAA packs carry them): no instance interface asks for a public
// address, and no subnet maps one on launch. Together they cover both ways an instance gets one.
// The pack is built over the cdk-nag module its caller loaded (nag.ts loads cdk-nag only when the
// checks run), so importing this file never loads cdk-nag.
import type { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export const NO_PUBLIC_IP_PACK = 'AnycdnNoPublicIp';

/** The pack, as a cdk-nag plugin over `scope`. */
export function noPublicIpChecks(nag: typeof import('cdk-nag'), scope: IConstruct): import('cdk-nag').NagPack {
  const { NagMessageLevel, rules } = nag;
  class NoPublicIpChecks extends nag.NagPack {
    readonly name = NO_PUBLIC_IP_PACK;

    constructor() {
      super(scope);
      this.packName = NO_PUBLIC_IP_PACK;
    }

    protected checkResource(node: CfnResource): void {
      this.applyRule({
        info: 'The EC2 instance has a public IPv4 address of its own.',
        explanation: 'Clients reach an aws site only at the Elastic IP on the VIP and at the accelerator; a host address on the internet bypasses both.',
        level: NagMessageLevel.ERROR,
        rule: rules.ec2.EC2InstanceNoPublicIp,
        node,
      });
      this.applyRule({
        info: 'The subnet maps a public IPv4 address to every instance launched in it.',
        explanation: 'An instance that does not say otherwise would get a public address.',
        level: NagMessageLevel.ERROR,
        rule: rules.vpc.VPCSubnetAutoAssignPublicIpDisabled,
        node,
      });
    }
  }
  return new NoPublicIpChecks();
}
