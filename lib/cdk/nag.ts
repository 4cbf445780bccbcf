// cdk-nag's AwsSolutions pack on the whole app, and the one way an adapter excuses a finding:
// next to the resource, with the reason an auditor would ask for.
import { Stack, Token, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { NoPublicIpChecks } from './nag-network.ts';

export function enableNag(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NoPublicIpChecks(app));
}

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.length < 40) throw new Error(`internal: the reason for ${id} is too short to be a reason`);
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * The partition as cdk-nag spells it in a finding id: the literal (@aws-cdk/core:enablePartitionLiterals
 * puts it in the template for a stack with a known region), or the Ref token's placeholder.
 */
export function nagPartition(scope: IConstruct): string {
  const p = Stack.of(scope).partition;
  return Token.isUnresolved(p) ? '<AWS::Partition>' : p;
}
