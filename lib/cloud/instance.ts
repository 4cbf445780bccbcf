// How every aws host's instance is set up, whichever adapter builds it: IMDSv2 only with one hop
// (nothing forwarded from the host reaches the metadata service), an encrypted gp3 root volume,
// detailed monitoring, and no termination protection (a replacement terminates the old instance).
// And the VPC flow log every aws site keeps.

export const INSTANCE = {
  rootDeviceName: '/dev/xvda',
  volumeType: 'gp3',
  encrypted: true,
  deleteOnTermination: true,
  /** IMDSv2: a session token is required. */
  httpTokens: 'required',
  httpPutResponseHopLimit: 1,
  detailedMonitoring: true,
  /**
   * Off: a replacement (a new AMI, subnet or disk size) ends with CloudFormation or Pulumi
   * terminating the old instance, which termination protection would refuse. Hosts are cattle
   * here: everything they hold comes from the bundle, and the cache refills.
   */
  disableApiTermination: false,
} as const;

/** Debian's public SSM parameter with the current Debian 12 AMI of a region: where to look up a pin. */
export const DEBIAN_AMI_PARAMETER = '/aws/service/debian/release/12/latest/amd64';

export function isAmiId(s: string): boolean {
  return /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/.test(s);
}

/** Rejected flows of the whole VPC, kept a month in CloudWatch Logs. */
export const FLOW_LOG = { trafficType: 'REJECT', retentionDays: 30 } as const;
