// Every bucket anycdn owns (the origin, the config buckets) is private, encrypted with S3-managed
// keys, TLS only, versioned, owner-enforced and kept when its stack is deleted.
export const PRIVATE_BUCKET = {
  blockPublicAccess: true,
  sseAlgorithm: 'AES256',
  /** Deny every s3:* request without aws:SecureTransport. */
  tlsOnly: true,
  versioned: true,
  objectOwnership: 'BucketOwnerEnforced',
  retainOnDelete: true,
} as const;

/**
 * The origin's server access logs (opt-in): a bucket of their own under a prefix, written by the
 * S3 log delivery group through its ACL (so the owner-preferred ownership), expired after 90 days,
 * not versioned. Otherwise as private as every other bucket.
 */
export const ACCESS_LOGS = {
  prefix: 'origin/',
  expirationDays: 90,
  objectOwnership: 'BucketOwnerPreferred',
  /** The canned ACL that lets S3's log delivery group write. */
  acl: 'log-delivery-write',
  versioned: false,
} as const;
