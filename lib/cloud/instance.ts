// How every aws host's instance is set up, whichever adapter builds it: IMDSv2 only with one hop
// (nothing forwarded from the host reaches the metadata service), an encrypted gp3 root volume,
// detailed monitoring and termination protection. And the VPC flow log every aws site keeps.

export const INSTANCE = {
  rootDeviceName: '/dev/xvda',
  volumeType: 'gp3',
  encrypted: true,
  deleteOnTermination: true,
  /** IMDSv2: a session token is required. */
  httpTokens: 'required',
  httpPutResponseHopLimit: 1,
  detailedMonitoring: true,
  disableApiTermination: true,
} as const;

/** The public SSM parameter holding the Debian 12 AMI id, resolved at deploy time. */
export const DEFAULT_DEBIAN_AMI_PARAMETER = '/aws/service/debian/release/12/latest/amd64';

/** Rejected flows of the whole VPC, kept a month in CloudWatch Logs. */
export const FLOW_LOG = { trafficType: 'REJECT', retentionDays: 30 } as const;
