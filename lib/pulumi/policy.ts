// IAM policy documents from lib/cloud statements: the one place the Pulumi adapter turns a
// ResourceRef into an ARN and a statement into JSON.
import * as pulumi from '@pulumi/pulumi';
import type { ResourceRef, Statement } from '../cloud/iam.ts';

export interface PolicyStatementJson {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action: string | string[];
  Resource: pulumi.Input<string> | pulumi.Input<string>[];
  Condition?: unknown;
}

/** What a ResourceRef resolves against in one stack. */
export interface ArnContext {
  partition: pulumi.Input<string>;
  region: string;
  account: string;
  /** The object holding this host's bundle: its bucket name and key. */
  ownBundle?: { bucket: pulumi.Input<string>; key: string };
  /** Subnet ids by model subnet name (aws sites). */
  subnetIds?: Record<string, pulumi.Input<string>>;
}

export function arnOf(r: ResourceRef, c: ArnContext): pulumi.Output<string> {
  const p = c.partition;
  switch (r.kind) {
    case 'own-bundle':
      if (!c.ownBundle) throw new Error('internal: own-bundle outside a host');
      return pulumi.interpolate`arn:${p}:s3:::${c.ownBundle.bucket}/${c.ownBundle.key}`;
    case 's3-bucket':
      return pulumi.interpolate`arn:${p}:s3:::${r.bucket}`;
    case 's3-objects':
      return pulumi.interpolate`arn:${p}:s3:::${r.bucket}/${r.pattern}`;
    case 'ssm-parameter':
      return pulumi.interpolate`arn:${p}:ssm:${c.region}:${c.account}:parameter${r.name}`;
    case 'elastic-ip':
      return pulumi.interpolate`arn:${p}:ec2:${c.region}:${c.account}:elastic-ip/${r.allocationId}`;
    case 'network-interfaces':
      return pulumi.interpolate`arn:${p}:ec2:${c.region}:${c.account}:network-interface/*`;
    case 'any':
      return pulumi.output('*');
  }
}

export function statementJson(st: Statement, c: ArnContext, extra: Partial<PolicyStatementJson> = {}): PolicyStatementJson {
  const resources = st.resources.map((r) => arnOf(r, c));
  const conditions: Record<string, unknown> = {};
  if (st.inSubnet !== undefined) {
    const id = c.subnetIds?.[st.inSubnet];
    if (!id) throw new Error(`internal: a subnet condition on ${st.inSubnet} without that subnet`);
    conditions.ArnEquals = { 'ec2:Subnet': pulumi.interpolate`arn:${c.partition}:ec2:${c.region}:${c.account}:subnet/${id}` };
  }
  if (st.resourceTags) conditions.StringEquals = Object.fromEntries(Object.entries(st.resourceTags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
  const condition = Object.keys(conditions).length > 0 ? conditions : undefined;
  return {
    Sid: st.sid,
    Effect: 'Allow',
    Action: st.actions.length === 1 ? st.actions[0]! : st.actions,
    Resource: resources.length === 1 ? resources[0]! : resources,
    ...(condition ? { Condition: condition } : {}),
    ...extra,
  };
}

/** A policy document as the JSON string IAM and S3 take. */
export function policyJson(statements: pulumi.Input<PolicyStatementJson>[]): pulumi.Output<string> {
  return pulumi.output(statements).apply((s) => JSON.stringify({ Version: '2012-10-17', Statement: s }));
}
