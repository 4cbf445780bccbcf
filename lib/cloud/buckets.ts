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
