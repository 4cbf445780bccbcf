// cdk-nag's AwsSolutions pack on the whole app, and the one way an adapter excuses a finding:
// next to the resource, with the reason an auditor would ask for.
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export function enableNag(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.length < 40) throw new Error(`internal: the reason for ${id} is too short to be a reason`);
  Validations.of(scope).acknowledge({ id, reason });
}
