// EC2 user data for an aws host: the cloud adapters' own bootstrap, not rendered config. It
// fetches the host's bundle, checks its sha256, unpacks it at /, installs the Debian packages for
// the host's roles with our files kept (--force-confold), then reloads systemd and (re)starts the
// units. A cloud-config part makes cloud-init run it on every boot (the documented AWS pattern),
// so the stop/start that CloudFormation does after a user data change applies a new bundle.
import { shAssignments } from '../render/syntax/shell.ts';

export interface UserDataInput {
  host: string;
  region: string;
  /** s3://bucket/key of the bundle. May hold CDK tokens or be a Pulumi-resolved string. */
  bundleUrl: string;
  bundleSha256: string;
  packages: string[];
  units: string[];
}

/** EC2 rejects user data over 16 KB (before base64). */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

const BOUNDARY = '==anycdn-boundary==';

export function userData(input: UserDataInput): string {
  for (const word of [...input.packages, ...input.units]) {
    if (!/^[a-z0-9][a-z0-9.+@-]*$/.test(word)) throw new Error(`internal: ${JSON.stringify(word)} is not a package or unit name`);
  }
  const script = [
    '#!/bin/bash',
    `# anycdn bootstrap for ${input.host}: fetch, verify and unpack its bundle at /, install its`,
    '# packages, (re)start its units. Runs on every boot; repeating it is safe.',
    'set -euo pipefail',
    ...shAssignments([
      ['REGION', input.region],
      ['BUNDLE_URL', input.bundleUrl],
      ['BUNDLE_SHA256', input.bundleSha256],
      ['PACKAGES', input.packages.join(' ')],
      ['UNITS', input.units.join(' ')],
    ]),
    ...SCRIPT_BODY,
  ];
  return [
    'Content-Type: multipart/mixed; boundary="' + BOUNDARY + '"',
    'MIME-Version: 1.0',
    '',
    `--${BOUNDARY}`,
    'Content-Type: text/cloud-config; charset="us-ascii"',
    '',
    '#cloud-config',
    'cloud_final_modules:',
    '- [scripts-user, always]',
    '',
    `--${BOUNDARY}`,
    'Content-Type: text/x-shellscript; charset="us-ascii"',
    '',
    ...script,
    `--${BOUNDARY}--`,
    '',
  ].join('\n');
}

const SCRIPT_BODY = String.raw`export DEBIAN_FRONTEND=noninteractive
bundle=$(mktemp)
trap 'rm -f "$bundle" /usr/sbin/policy-rc.d' EXIT
apt_get() { apt-get -q -y -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef "$@"; }

apt_get update
apt_get install --no-install-recommends awscli ca-certificates curl
if ! dpkg -s amazon-ssm-agent >/dev/null 2>&1; then
	curl -fsS --retry 5 -o /tmp/amazon-ssm-agent.deb "https://s3.$REGION.amazonaws.com/amazon-ssm-$REGION/latest/debian_amd64/amazon-ssm-agent.deb"
	dpkg -i /tmp/amazon-ssm-agent.deb && rm -f /tmp/amazon-ssm-agent.deb
fi

aws s3 cp --only-show-errors --region "$REGION" "$BUNDLE_URL" "$bundle"
echo "$BUNDLE_SHA256  $bundle" | sha256sum --check --strict --quiet -
tar -xzmf "$bundle" -C / --no-same-owner
sysctl --system >/dev/null

# Packages must not start on their stock configs; the units start below, on ours.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
apt_get install --no-install-recommends $PACKAGES
rm -f /usr/sbin/policy-rc.d

systemctl daemon-reload
systemctl enable $UNITS
systemctl restart $UNITS
logger -t anycdn-bootstrap "applied bundle $BUNDLE_SHA256"
`.split('\n');
