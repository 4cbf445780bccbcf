// Stack config: what each key means, every problem at once with its fix, the shipped
// Pulumi.<stack>.yaml files (one per stack, the model's region, no secrets), Pulumi.yaml's entry
// point end to end, and secrets that stay references inside the bundles the program uploads.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cloudShape } from '../../lib/cloud/shape.ts';
import { stackRefs } from '../../lib/cloud/stacks.ts';
import { renderPlans } from '../../lib/render/index.ts';
import { CONFIG, ConfigError, readSettings } from '../../lib/pulumi/config.ts';
import { edit, load } from '../model/fixtures.ts';
import { SITES_DIR, shippedTexts } from '../helpers/topology.ts';
import { ACCOUNT, AMI, runStack } from './harness.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function problems(stack: string, config: Record<string, string>): string[] {
  try {
    readSettings(stack, (k) => config[k]);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('readSettings', () => {
  it('takes the twin from the stack name, and defaults for everything but account and region', () => {
    expect(readSettings('sin', (k) => ({ 'aws:region': 'ap-southeast-1', 'anycdn:account': ACCOUNT })[k])).toEqual({
      stack: 'sin',
      account: ACCOUNT,
      region: 'ap-southeast-1',
      sitesDir: 'sites',
      outDir: 'out',
      globalByoip: false,
      originAccessLogs: false,
    });
    expect(readSettings('sin-prod', (k) => ({ 'aws:region': 'ap-southeast-1', 'anycdn:account': ACCOUNT, 'anycdn:site': 'sin' })[k]).stack).toBe('sin');
  });

  it('reports every problem at once, naming the key and the fix', () => {
    expect(problems('sin', { 'anycdn:globalByoip': 'yes', 'anycdn:sites': '', 'anycdn:debianAmi': 'latest', 'anycdn:alarmTopicArn': 'topic' })).toEqual([
      'config anycdn:account: missing; run pulumi config set anycdn:account <12-digit account id>',
      'config aws:region: missing; run pulumi config set aws:region <the stack\'s region>',
      'config anycdn:globalByoip: must be true or false, got "yes"',
      'config anycdn:sites: must not be empty; remove it for the default "sites"',
      'config anycdn:debianAmi: must be an AMI id such as ami-0123456789abcdef0, got "latest"',
      'config anycdn:alarmTopicArn: must be an SNS topic ARN, got "topic"',
    ]);
    expect(problems('sin', { 'aws:region': 'ap-southeast-1', 'anycdn:account': '1234' })).toEqual(['config anycdn:account: must be a 12-digit AWS account id, got "1234"']);
  });
});

describe('the program refuses a stack it cannot build', () => {
  it('in a region other than the model says', async () => {
    await expect(runStack('sin', { settings: { region: 'eu-west-1' } })).rejects.toThrow('config aws:region: stack sin lives in ap-southeast-1, got eu-west-1; run pulumi config set aws:region ap-southeast-1');
  });

  it('an aws site without a pinned AMI, saying how to look one up', async () => {
    await expect(runStack('sin', { config: { 'aws:region': 'ap-southeast-1', 'anycdn:account': ACCOUNT, 'anycdn:sites': SITES_DIR } })).rejects.toThrow(
      'config anycdn:debianAmi: missing; pin the Debian 12 AMI of ap-southeast-1: pulumi config set anycdn:debianAmi $(aws ssm get-parameter --region ap-southeast-1 --name /aws/service/debian/release/12/latest/amd64 --query Parameter.Value --output text)',
    );
  });

  it('named after nothing in the model', async () => {
    await expect(runStack('fra')).rejects.toThrow('config anycdn:site: no stack "fra" in this model; name the stack (or set anycdn:site to) one of ams, global, nyc, origin, sin');
  });
});

describe('the shipped Pulumi.<stack>.yaml', () => {
  const files = readdirSync(ROOT).filter((n) => /^Pulumi\..+\.yaml$/.test(n)).sort();
  const refs = stackRefs(cloudShape(load(shippedTexts()), renderPlans(load(shippedTexts()))));

  it('exist once per stack of the model', () => {
    expect(files).toEqual(refs.map((r) => `Pulumi.${r.name}.yaml`).sort());
  });

  it.each(refs.map((r) => [r.name, r.region, r.kind]))('%s: holds the model region and the placeholder account (and AMI on aws sites), known keys only, no secrets', (name, region, kind) => {
    const text = readFileSync(join(ROOT, `Pulumi.${name}.yaml`), 'utf8');
    const config = (parse(text) as { config: Record<string, unknown> }).config;
    expect(config).toEqual({ 'aws:region': region, 'anycdn:account': ACCOUNT, ...(kind === 'aws-site' ? { 'anycdn:debianAmi': AMI } : {}) });
    expect(Object.keys(config).every((k) => (Object.values(CONFIG) as string[]).includes(k))).toBe(true);
    expect(text).not.toMatch(/secure:|encryptionsalt|password/i);
    expect(readSettings(name, (k) => config[k] as string | undefined)).toMatchObject({ stack: name, region });
  });

  it('Pulumi.yaml runs lib/pulumi/index.ts through tsx', () => {
    expect(parse(readFileSync(join(ROOT, 'Pulumi.yaml'), 'utf8'))).toEqual({
      name: 'anycdn',
      description: expect.any(String),
      runtime: { name: 'nodejs', options: { typescript: false, nodeargs: '--import tsx' } },
      main: 'lib/pulumi/index.ts',
    });
  });
});

describe("Pulumi.yaml's entry point", () => {
  it('reads the stack config, loads the sites directory and builds the stack', async () => {
    const run = await runStack('origin', { config: { 'aws:region': 'eu-west-1', 'anycdn:account': ACCOUNT, 'anycdn:sites': SITES_DIR } });
    expect(run.ofType('aws:s3/bucket:Bucket').map((b) => b.inputs.bucket)).toEqual(['anycdn-example-images']);
    expect(run.outputs).toEqual({ bucketName: 'anycdn-example-images' });
  });

  it('prints model errors as FILE:LINE:COL lines and a count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anycdn-pulumi-bad-'));
    const texts = edit(shippedTexts(), ['sites/sin.yaml', '    address: 10.30.0.22', '    address: 10.30.0.3']);
    mkdirSync(join(dir, 'sites'));
    for (const [name, text] of Object.entries(texts)) writeFileSync(join(dir, name), text);
    await expect(runStack('sin', { config: { 'aws:region': 'ap-southeast-1', 'anycdn:account': ACCOUNT, 'anycdn:sites': join(dir, 'sites') } })).rejects.toThrow(
      /^.*sites\/sin\.yaml:\d+:\d+: hosts\[3\]\.address: 10\.30\.0\.3 \(sin-cache2\) is reserved by AWS in 10\.30\.0\.0\/24 \(the first four and the last address\); pick another\n1 error\(s\)$/,
    );
  });

  it('reports missing config before it reads anything', async () => {
    await expect(runStack('origin', { config: { 'anycdn:sites': '/nonexistent' } })).rejects.toThrow(/^config anycdn:account: missing; .*\nconfig aws:region: missing; /);
  });
});

describe('secrets', () => {
  it('stay references: the ams bundle the program uploads names the SSM parameter the host fetches at boot', async () => {
    const run = await runStack('ams');
    const object = run.ofType('aws:s3/bucketObjectv2:BucketObjectv2').find((o) => o.inputs.key === 'ams-lb1/bundle.tar.gz')!;
    const fetch = execFileSync('tar', ['-xzOf', await (object.inputs.source as { path: Promise<string> }).path, 'usr/local/sbin/anycdn-fetch-secrets'], { encoding: 'utf8' });
    // The host fetches the value at boot into a tmpfs; the bundle carries only the reference.
    expect(fetch).toContain(`bird_password 'ssm:/anycdn/ams/bgp/transit1' '/run/anycdn/secrets/bird-transit1.conf'`);
  });
});
