// The CDK app's settings, all from context (cdk.json or -c key=value), so synth never reads the
// environment and two runs give the same templates.
import type { Construct } from 'constructs';

export const CONTEXT = {
  /** The AWS account every stack is bound to. cdk.json pins a placeholder for offline synth. */
  account: 'anycdn:account',
  /** The sites directory, relative to the working directory. */
  sites: 'anycdn:sites',
  /** The render output whose manifest holds the zone serials to ship (lib/out/manifest.ts). */
  out: 'anycdn:out',
  /**
   * The Debian 12 AMI of each aws site's region, pinned ({"<region>": "ami-..."}): a new AMI
   * replaces every instance of the region, so it changes only when an operator bumps it.
   */
  debianAmi: 'anycdn:debian-ami',
  /** true: the accelerator takes the model's anycast IPv4 addresses, one per prefix (BYOIP, provisioned beforehand). */
  globalByoip: 'anycdn:global-byoip',
  /** true: the origin bucket writes server access logs to a bucket of its own. */
  originAccessLogs: 'anycdn:origin-access-logs',
  /** An SNS topic ARN (us-east-1) that metal sites' VIP alarms notify. */
  alarmTopicArn: 'anycdn:alarm-topic-arn',
  /** true or false: run cdk-nag's AwsSolutions checks in this synth, whatever nagChecks() decides. */
  nag: 'anycdn:nag',
} as const;

/** Bad context (cdk.json or -c): bin/cdk.ts prints the message alone, as bad usage. */
export class ContextError extends Error {
  /** `key` and `problem` apart, for a caller that names its own fix (`anycdn plan` has no -c). */
  constructor(
    readonly key: string,
    readonly problem: string,
  ) {
    super(`context ${key}: ${problem}; set it in cdk.json or with -c ${key}=${key === CONTEXT.account ? 'ACCOUNT' : 'VALUE'}`);
    this.name = 'ContextError';
  }
}

export const PLACEHOLDER_ACCOUNT = '111111111111';
import { DEBIAN_AMI_PARAMETER, isAmiId } from '../cloud/instance.ts';
export { GLOBAL_REGION, METAL_REGION } from '../cloud/stacks.ts';

export function contextString(scope: Construct, key: string, fallback: string): string {
  const v: unknown = scope.node.tryGetContext(key);
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || v === '') throw new ContextError(key, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

export function contextFlag(scope: Construct, key: string): boolean {
  const v: unknown = scope.node.tryGetContext(key);
  if (v === undefined || v === false || v === 'false') return false;
  if (v === true || v === 'true') return true;
  throw new ContextError(key, `must be true or false, got ${JSON.stringify(v)}`);
}

/** The pinned AMI of `region` from context anycdn:debian-ami. */
export function debianAmi(scope: Construct, region: string): string {
  const key = CONTEXT.debianAmi;
  const raw: unknown = scope.node.tryGetContext(key);
  const v = typeof raw === 'string' ? parseJson(raw) : raw; // -c passes a string
  const lookup = `aws ssm get-parameter --region ${region} --name ${DEBIAN_AMI_PARAMETER} --query Parameter.Value`;
  if (v === undefined) throw new ContextError(key, `missing; pin the Debian 12 AMI per region, e.g. {"${region}": "ami-..."} with the id from \`${lookup}\``);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ContextError(key, `must map regions to AMI ids, got ${JSON.stringify(v)}`);
  const ami: unknown = (v as Record<string, unknown>)[region];
  if (ami === undefined) throw new ContextError(key, `no AMI for ${region}; add "${region}": "ami-..." with the id from \`${lookup}\``);
  if (typeof ami !== 'string' || !isAmiId(ami)) throw new ContextError(key, `${region}: must be an AMI id such as ami-0123456789abcdef0, got ${JSON.stringify(ami)}`);
  return ami;
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}

export function account(scope: Construct): string {
  const a = contextString(scope, CONTEXT.account, PLACEHOLDER_ACCOUNT);
  if (!/^\d{12}$/.test(a)) throw new ContextError(CONTEXT.account, `must be a 12-digit AWS account id, got ${JSON.stringify(a)}`);
  return a;
}

/**
 * Whether aws-cdk-lib's built-in CloudFormation validation runs during synth. It is a 9 MB wasm
 * that costs about 5 s and 300 MiB of every synth, so it runs where its findings are read: in CI
 * (`CI=true`, which .ci/run and CI systems set) and in `npm test` (the test synth and the CLI test
 * ask for it). Anywhere else it runs on demand with `CDK_VALIDATION=true`, and
 * `CDK_VALIDATION=false` (or `cdk synth --no-validation`) turns it off everywhere. It never changes
 * the templates, only whether they are checked.
 */
export function builtinValidation(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.CDK_VALIDATION === 'false') return false;
  return env.CI === 'true' || env.CDK_VALIDATION === 'true';
}

/**
 * Whether `cdk synth` (bin/cdk.ts) runs cdk-nag's AwsSolutions checks. They load cdk-nag and the
 * ~60 aws-cdk-lib modules its rules import and walk every resource: about 1 s of a synth that
 * otherwise takes about 1.4 s of CPU here. Whether a finding arises is decided by the code in
 * lib/cdk (it acknowledges, with reasons, what the model asks for), so they run where code changes
 * are checked: in CI and `npm test` (the CDK tests build the app with buildApp's default, nag on,
 * and fail on an unacknowledged finding), and in `anycdn plan` on the model to apply. A plain synth runs
 * them with the built-in validation (`CI=true`, `CDK_VALIDATION=true`) or with
 * `-c anycdn:nag=true`; `-c anycdn:nag=false` turns them off even there.
 */
export function nagChecks(scope: Construct, env: NodeJS.ProcessEnv = process.env): boolean {
  return scope.node.tryGetContext(CONTEXT.nag) === undefined ? builtinValidation(env) : contextFlag(scope, CONTEXT.nag);
}
