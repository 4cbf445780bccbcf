// cdk-nag's AwsSolutions pack on the whole app, and the one way an adapter excuses a finding:
// next to the resource, with the reason an auditor would ask for. cdk-nag itself is loaded only
// when the checks run (a synth without them never loads it; see nagChecks in context.ts).
import { createRequire } from 'node:module';
import { Stack, Token, Validations, type App } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { noPublicIpChecks } from './nag-network.ts';

export function enableNag(app: App): void {
  const nag = createRequire(import.meta.url)('cdk-nag') as typeof import('cdk-nag');
  Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app), noPublicIpChecks(nag, app));
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
