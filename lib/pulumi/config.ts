// The Pulumi program's settings, all from stack config (Pulumi.<stack>.yaml or `pulumi config
// set`), so a run never reads the environment. Every problem is reported at once, naming the key
// and the fix. Secrets are never config here: the model holds references (ssm:, secretsmanager:).
import { DEBIAN_AMI_PARAMETER, isAmiId } from '../cloud/instance.ts';

/** Config keys, in the project's namespace (anycdn:<key>) unless they name another. */
export const CONFIG = {
  /** Which twin this stack is: origin, global or a site id. Default: the stack name. */
  site: 'anycdn:site',
  /** The AWS account every resource is bound to (the provider refuses any other). Required. */
  account: 'anycdn:account',
  /** The region of the stack; must be the one the model puts this stack in. Required. */
  region: 'aws:region',
  /** The sites directory, relative to the project directory. Default: sites. */
  sites: 'anycdn:sites',
  /** The render output whose manifest holds the zone serials to ship. Default: out. */
  out: 'anycdn:out',
  /** aws site stacks: the pinned Debian 12 AMI of the region (a new one replaces every instance). */
  debianAmi: 'anycdn:debianAmi',
  /** true: the accelerator takes the model's anycast IPv4 addresses, one per prefix (BYOIP, provisioned beforehand). */
  globalByoip: 'anycdn:globalByoip',
  /** An SNS topic ARN (us-east-1) that metal sites' VIP alarms notify. */
  alarmTopicArn: 'anycdn:alarmTopicArn',
  /** true: the origin bucket writes server access logs to a bucket of its own. */
  originAccessLogs: 'anycdn:originAccessLogs',
} as const;

export interface Settings {
  /** origin, global or a site id. */
  stack: string;
  account: string;
  region: string;
  sitesDir: string;
  outDir: string;
  /** Only aws site stacks need it; the program says so when it is missing. */
  debianAmi?: string;
  globalByoip: boolean;
  originAccessLogs: boolean;
  alarmTopicArn?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** `get` returns the raw config value of a full key (namespace:name), or undefined when unset. */
export function readSettings(stackName: string, get: (key: string) => string | undefined): Settings {
  const problems: string[] = [];
  const stack = get(CONFIG.site) ?? stackName;
  const account = get(CONFIG.account);
  if (account === undefined) problems.push(`config ${CONFIG.account}: missing; run pulumi config set ${CONFIG.account} <12-digit account id>`);
  else if (!/^\d{12}$/.test(account)) problems.push(`config ${CONFIG.account}: must be a 12-digit AWS account id, got ${JSON.stringify(account)}`);
  const region = get(CONFIG.region);
  if (region === undefined) problems.push(`config ${CONFIG.region}: missing; run pulumi config set ${CONFIG.region} <the stack's region>`);
  const flag = (key: string): boolean => {
    const v = get(key);
    if (v === undefined || v === 'false') return false;
    if (v === 'true') return true;
    problems.push(`config ${key}: must be true or false, got ${JSON.stringify(v)}`);
    return false;
  };
  const nonEmpty = (key: string, fallback: string): string => {
    const v = get(key);
    if (v === undefined) return fallback;
    if (v === '') problems.push(`config ${key}: must not be empty; remove it for the default ${JSON.stringify(fallback)}`);
    return v;
  };
  const globalByoip = flag(CONFIG.globalByoip);
  const originAccessLogs = flag(CONFIG.originAccessLogs);
  const sitesDir = nonEmpty(CONFIG.sites, 'sites');
  const outDir = nonEmpty(CONFIG.out, 'out');
  const debianAmi = get(CONFIG.debianAmi);
  if (debianAmi !== undefined && !isAmiId(debianAmi)) problems.push(`config ${CONFIG.debianAmi}: must be an AMI id such as ami-0123456789abcdef0, got ${JSON.stringify(debianAmi)}`);
  const alarmTopicArn = get(CONFIG.alarmTopicArn);
  if (alarmTopicArn !== undefined && !/^arn:[a-z-]+:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(alarmTopicArn)) {
    problems.push(`config ${CONFIG.alarmTopicArn}: must be an SNS topic ARN, got ${JSON.stringify(alarmTopicArn)}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { stack, account: account!, region: region!, sitesDir, outDir, globalByoip, originAccessLogs, ...(debianAmi ? { debianAmi } : {}), ...(alarmTopicArn ? { alarmTopicArn } : {}) };
}

/** The message for an aws site stack without a pinned AMI. */
export function missingAmi(region: string): string {
  return `config ${CONFIG.debianAmi}: missing; pin the Debian 12 AMI of ${region}: pulumi config set ${CONFIG.debianAmi} $(aws ssm get-parameter --region ${region} --name ${DEBIAN_AMI_PARAMETER} --query Parameter.Value --output text)`;
}
