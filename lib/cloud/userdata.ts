// EC2 user data for an aws host: the cloud adapters' own bootstrap, not rendered config. It
// fetches the host's bundle, checks its sha256, unpacks it at /, installs the Debian packages for
// the host's roles with our files kept (--force-confold), then reloads systemd and (re)starts the
// units. A cloud-config part makes cloud-init run it on every boot (the documented AWS pattern),
// so the stop/start that CloudFormation does after a user data change applies a new bundle.
import type { Word } from '../render/syntax/word.ts';
import { assign, emitSh, sh } from '../render/syntax/shell.ts';

export interface UserDataInput {
  host: string;
  region: string;
  /** s3://bucket/key of the bundle. May hold CDK tokens or be a Pulumi-resolved string. */
  bundleUrl: string;
  bundleSha256: string;
  packages: string[];
  units: string[];
  /**
   * The host's model address, claimed at every boot as a secondary private address of its primary
   * interface (ec2:AssignPrivateIpAddresses --allow-reassignment): the instance owns no fixed
   * address, so a replacement can start beside the old instance and take the address over.
   */
  address: HostAddress;
  /**
   * The host's second interface, in the egress subnet of its zone: the instance has no public
   * address, so everything it starts itself (apt, S3, the EC2 and SSM APIs, cache misses) leaves
   * there, through the site's NAT gateway. Replies to what arrives on the first interface (image
   * clients on the Elastic IP, DNS from Global Accelerator) leave where they came in.
   */
  egress: HostEgress;
  /**
   * Global Accelerator sends traffic and health checks to an instance endpoint's primary private
   * address; nftables forwards these ports from there to the model address.
   */
  forwardFromPrimary?: { tcp: number[]; udp: number[] };
  /**
   * The health gate: after the units are active and every probe answers 2xx, the host PUTs SUCCESS
   * to a CloudFormation wait condition handle; FAILURE when the bootstrap fails or the host is not
   * ready in time. `url`: the handle itself (CDK, a token). `stack`: the name of a stack whose
   * resource `Handle` is the handle; the host looks its URL up when it signals (Pulumi creates
   * that stack after the instance, and its creation waits for the signal).
   */
  readiness?: { signal: { url: string } | { stack: string }; probes: string[]; attempts: number; intervalSec: number };
}

export interface HostAddress {
  address: string;
  /** The model subnet holding it: on-link traffic leaves from the model address. */
  subnet: string;
  /** The model subnet's VPC router (its network address + 1). */
  router: string;
  /** The VPC's model block: the other model subnets are reached from the model address too. */
  vpcCidr: string;
  interface: string;
}

export interface HostEgress {
  /** The egress subnet: the second interface is the one with an address in it. */
  subnet: string;
  /** Its VPC router: the host's default gateway, on to the NAT gateway. */
  router: string;
}

/** EC2 rejects user data over 16 KB (before base64). */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

const BOUNDARY = '==anycdn-boundary==';

export function userData(input: UserDataInput): string {
  for (const word of [...input.packages, ...input.units]) {
    if (!/^[a-z0-9][a-z0-9.+@-]*$/.test(word)) throw new Error(`internal: ${JSON.stringify(word)} is not a package or unit name`);
  }
  const settings: [string, string][] = [
    ['REGION', input.region],
    ['BUNDLE_URL', input.bundleUrl],
    ['BUNDLE_SHA256', input.bundleSha256],
    ['BOOT_PACKAGES', ['awscli', 'ca-certificates', 'curl', ...(input.forwardFromPrimary ? ['nftables'] : [])].join(' ')],
    ['PACKAGES', input.packages.join(' ')],
    ['UNITS', input.units.join(' ')],
    ['ADDRESS', input.address.address],
    ['SUBNET', input.address.subnet],
    ['ROUTER', input.address.router],
    ['VPC_CIDR', input.address.vpcCidr],
    ['INTERFACE', input.address.interface],
    ['EGRESS_SUBNET', input.egress.subnet],
    ['EGRESS_ROUTER', input.egress.router],
    ...(input.forwardFromPrimary
      ? ([
          ['FORWARD_TCP', input.forwardFromPrimary.tcp.join(', ')],
          ['FORWARD_UDP', input.forwardFromPrimary.udp.join(', ')],
        ] as [string, string][])
      : []),
    ...(input.readiness
      ? ([
          ['HOST', input.host],
          ...(('url' in input.readiness.signal ? [['SIGNAL_URL', input.readiness.signal.url]] : [['SIGNAL_STACK', input.readiness.signal.stack]]) as [string, string][]),
          ['PROBES', input.readiness.probes.join(' ')],
          ['READY_ATTEMPTS', String(input.readiness.attempts)],
          ['READY_INTERVAL_SEC', String(input.readiness.intervalSec)],
        ] as [string, string][])
      : []),
  ];
  const script = emitSh([
    '#!/bin/bash',
    `# anycdn bootstrap for ${input.host}: fetch, verify and unpack its bundle at /, install its`,
    '# packages, (re)start its units. Runs on every boot; repeating it is safe.',
    sh`set -euo pipefail`,
    ...settings.map(([name, value]) => assign(name, value)),
    ...(input.readiness && 'stack' in input.readiness.signal ? [SIGNAL_URL_FROM_STACK] : []),
    ...(input.readiness ? [SIGNAL_ON_ERROR] : []),
    EGRESS_ROUTES,
    SCRIPT_BODY,
    CLAIM_ADDRESS,
    ...(input.forwardFromPrimary ? [FORWARD_FROM_PRIMARY] : []),
    START_UNITS,
    ...(input.readiness ? [READINESS_GATE] : []),
  ]);
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

// The handle of a wait condition in a stack of its own (Pulumi): its physical id is the presigned
// URL. The stack is created once the instance runs, so the lookup retries for up to 10 minutes.
const SIGNAL_URL_FROM_STACK: Word = sh`SIGNAL_URL=
signal_url() {
	[ -n "$SIGNAL_URL" ] && return 0
	for _ in $(seq 60); do
		SIGNAL_URL=$(aws cloudformation describe-stack-resource --region "$REGION" --stack-name "$SIGNAL_STACK" \
			--logical-resource-id Handle --query StackResourceDetail.PhysicalResourceId --output text 2>/dev/null) && return 0
		sleep 10
	done
	return 1
}`;

// A wait condition signal with nothing but curl: a PUT of a small JSON document to the handle.
const SIGNAL_ON_ERROR: Word = sh`signal() {
	if [ "$1" = FAILURE ]; then hand_back || true; fi
	if [ -n "\${SIGNAL_STACK:-}" ]; then signal_url || return 1; fi
	curl -fsS --retry 5 -X PUT -H 'Content-Type:' --data-binary "{\"Status\":\"$1\",\"Reason\":\"$2\",\"UniqueId\":\"$HOST\",\"Data\":\"$BUNDLE_SHA256\"}" "$SIGNAL_URL"
}
trap 'signal FAILURE "bootstrap of $HOST failed at line $LINENO"' ERR`;

// The host is ready when every unit is active and every local probe answers 2xx (a dns host's
// GET /anycast is 200 only while its site's DNS and image path are healthy).
const READINESS_GATE: Word = sh`
ready() {
	# shellcheck disable=SC2086 # a list of words, split on purpose
	systemctl is-active --quiet $UNITS || return 1
	for url in $PROBES; do curl -fsS -o /dev/null --max-time 2 "$url" || return 1; done
}
trap - ERR
for _ in $(seq "$READY_ATTEMPTS"); do
	if ready; then
		signal SUCCESS "$HOST: units active, probes green"
		exit 0
	fi
	sleep "$READY_INTERVAL_SEC"
done
signal FAILURE "$HOST: not ready after $READY_ATTEMPTS checks"
exit 1
`;

const SCRIPT_BODY: Word = sh`export DEBIAN_FRONTEND=noninteractive
bundle=$(mktemp)
trap 'rm -f "$bundle" /usr/sbin/policy-rc.d' EXIT
apt_get() { apt-get -q -y -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef "$@"; }

# apt over https: the security groups open port 80 to no one but the caches' targets.
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && sed -i 's#http://#https://#g' "$f"
done
apt_get update
# shellcheck disable=SC2086 # a list of words, split on purpose
apt_get install --no-install-recommends $BOOT_PACKAGES
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
# shellcheck disable=SC2086 # a list of words, split on purpose
apt_get install --no-install-recommends $PACKAGES
rm -f /usr/sbin/policy-rc.d
`;

// The model address: taken over from any older instance of this host (a replacement runs beside
// it until CloudFormation deletes it), put on the interface, and made the source of on-link
// traffic (keepalived's unicast peers and the caches' set_real_ip_from name it). The default route
// keeps the primary address as its source. The other model subnets (if any) are reached from the
// model address too, through the first interface. A host that then fails hands the address back
// to the interface it took it from, so a rolled-back replacement leaves the old instance serving.
const CLAIM_ADDRESS: Word = sh`IMDS=http://169.254.169.254/latest
token=$(curl -fsS --retry 5 --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$IMDS/api/token")
imds() { curl -fsS --retry 5 --max-time 2 -H "X-aws-ec2-metadata-token: $token" "$IMDS/meta-data/$1"; }
mac=$(cat "/sys/class/net/$INTERFACE/address")
eni=$(imds "network/interfaces/macs/$mac/interface-id")
subnet_id=$(imds "network/interfaces/macs/$mac/subnet-id")
holder=$(aws ec2 describe-network-interfaces --region "$REGION" --output text \
	--filters "Name=subnet-id,Values=$subnet_id" "Name=addresses.private-ip-address,Values=$ADDRESS" \
	--query 'NetworkInterfaces[0].NetworkInterfaceId')
hand_back() {
	case "$holder" in "$eni" | None | "") return 0 ;; esac
	aws ec2 assign-private-ip-addresses --region "$REGION" --allow-reassignment \
		--network-interface-id "$holder" --private-ip-addresses "$ADDRESS" >/dev/null
}
aws ec2 assign-private-ip-addresses --region "$REGION" --allow-reassignment \
	--network-interface-id "$eni" --private-ip-addresses "$ADDRESS" >/dev/null
ip addr replace "$ADDRESS/32" dev "$INTERFACE"
ip route replace "$SUBNET" dev "$INTERFACE" proto kernel scope link src "$ADDRESS"
if [ "$VPC_CIDR" != "$SUBNET" ]; then ip route replace "$VPC_CIDR" via "$ROUTER" dev "$INTERFACE" src "$ADDRESS"; fi
`;

// No public address: the default route is the second interface's (egress subnet, NAT gateway).
// What leaves from an address of the first interface's subnet (replies to image clients on the
// Elastic IP's VIP, to Global Accelerator on the primary address, VRRP, haproxy to the caches)
// takes that interface: its own routes first, else table 100's default via the subnet's router,
// which is how the Elastic IP answers through the internet gateway. Before apt: apt needs it.
const EGRESS_ROUTES: Word = sh`egress=
for _ in $(seq 60); do
	egress=$(ip -4 -o addr show to "$EGRESS_SUBNET" | awk '{print $2; exit}')
	[ -n "$egress" ] && break
	sleep 2
done
[ -n "$egress" ]
sysctl -qw net.ipv4.conf.all.rp_filter=2
ip route replace default via "$EGRESS_ROUTER" dev "$egress"
ip route replace default via "$ROUTER" dev "$INTERFACE" table 100
while ip rule del pref 100 2>/dev/null; do :; done
while ip rule del pref 101 2>/dev/null; do :; done
ip rule add pref 100 from "$SUBNET" lookup main suppress_prefixlength 0
ip rule add pref 101 from "$SUBNET" lookup 100
`;

// Global Accelerator sends DNS and its health checks to the primary address.
const FORWARD_FROM_PRIMARY: Word = sh`PRIMARY=$(imds local-ipv4)
nft -f - <<NFT
table ip anycdn_primary
delete table ip anycdn_primary
table ip anycdn_primary {
	chain prerouting {
		type nat hook prerouting priority dstnat;
		ip daddr $PRIMARY tcp dport { $FORWARD_TCP } dnat to $ADDRESS
		ip daddr $PRIMARY udp dport { $FORWARD_UDP } dnat to $ADDRESS
	}
}
NFT
`;

const START_UNITS: Word = sh`systemctl daemon-reload
# shellcheck disable=SC2086 # a list of words, split on purpose
systemctl enable $UNITS
# shellcheck disable=SC2086 # a list of words, split on purpose
systemctl restart $UNITS
logger -t anycdn-bootstrap "applied bundle $BUNDLE_SHA256 on $ADDRESS"
`;
