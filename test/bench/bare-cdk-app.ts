// The baseline of the synth benchmark: a bare CDK app with the same resources as anycdn's. It
// reads the templates of an earlier `cdk synth` (BARE_TEMPLATES: a cloud assembly directory) and
// declares every stack's parameters, resources and outputs as plain L1 constructs:
// no model, no rendering, no L2 constructs, no assets. The bench compiles it with esbuild, as
// anycdn's app is compiled, and runs it through the same `cdk synth` with the same cdk.json.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CfnOutput, CfnParameter, CfnResource, Stack, Validations, type CfnDeletionPolicy } from 'aws-cdk-lib';

interface Template {
  Description?: string;
  Parameters?: Record<string, { Type: string; Default?: string; Description?: string }>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[]; DeletionPolicy?: string; UpdateReplacePolicy?: string; Condition?: string }>;
  Outputs?: Record<string, { Value: unknown; Description?: string; Export?: { Name: string }; Condition?: string }>;
}

const dir = process.env.BARE_TEMPLATES;
if (!dir) throw new Error('bare-cdk-app: set BARE_TEMPLATES to the cdk.out of an earlier synth');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string; environment?: string }> };
const app = new App({ stackTraces: false });
for (const file of readdirSync(dir).filter((f) => f.endsWith('.template.json')).sort()) {
  const name = file.replace(/\.template\.json$/, '');
  const env = /^aws:\/\/(\d+)\/(.+)$/.exec(manifest.artifacts[name]?.environment ?? '');
  const t = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Template;
  const stack = new Stack(app, name, { description: t.Description, ...(env ? { env: { account: env[1], region: env[2] } } : {}) });
  // The synthesizer adds its own bootstrap parameter and rule.
  for (const [id, p] of Object.entries(t.Parameters ?? {})) if (id !== 'BootstrapVersion') new CfnParameter(stack, id, { type: p.Type, default: p.Default, description: p.Description });
  const made = new Map<string, CfnResource>();
  for (const [id, r] of Object.entries(t.Resources)) {
    const res = new CfnResource(stack, id, { type: r.Type, properties: r.Properties });
    res.overrideLogicalId(id);
    if (r.DeletionPolicy) res.cfnOptions.deletionPolicy = r.DeletionPolicy as CfnDeletionPolicy;
    if (r.UpdateReplacePolicy) res.cfnOptions.updateReplacePolicy = r.UpdateReplacePolicy as CfnDeletionPolicy;
    // What any app declaring this type must do: the validator's registry data predates it.
    if (r.Type === 'AWS::EC2::SubnetCidrReservation') Validations.of(res).acknowledge({ id: 'CloudFormation-Validate::F3006', reason: 'the type is newer than the validator' });
    made.set(id, res);
  }
  for (const [id, r] of Object.entries(t.Resources)) if (r.DependsOn) made.get(id)!.addOverride('DependsOn', [r.DependsOn].flat());
  for (const [id, o] of Object.entries(t.Outputs ?? {})) new CfnOutput(stack, id, { value: o.Value as string, description: o.Description, exportName: o.Export?.Name });
}
app.synth();
