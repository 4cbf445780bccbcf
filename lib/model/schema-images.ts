// The derived images (thumbnails) a CDN may make: `images.transforms` in sites/cdn.yaml. Only what
// the engine really does is offered. The engine is libvips (Debian libvips42, through
// gir1.2-vips-8.0) in anycdn-thumbnailer, a small service on loopback beside each nginx cache
// (lib/thumbnailer/): it shrinks JPEG, PNG, GIF, WebP and AVIF proportionally and writes the
// source's own format, or AVIF or WebP for a browser that says it takes them (`formats`, by the
// Accept header). Originals are served as stored: README "Derived images" says why.
// Cross-field rules (which sites transform, clashes with other paths) are rules/images.ts.
import { z } from 'zod';

/** The widths a request may ask for: at least 16 px (smaller is an icon, not a thumbnail), at most 4096. */
export const MIN_WIDTH = 16;
export const MAX_WIDTH = 4096;
/** The formats a derived image may be converted to, for browsers that take them. */
export const FORMATS = ['avif', 'webp'] as const;

const width = z
  .number()
  .int({ message: 'must be a whole number of pixels' })
  .min(MIN_WIDTH, { message: `must be ${MIN_WIDTH}..${MAX_WIDTH} pixels` })
  .max(MAX_WIDTH, { message: `must be ${MIN_WIDTH}..${MAX_WIDTH} pixels` });
const quality = z.number().int({ message: 'must be a whole number 1..100' }).min(1, { message: 'must be 1..100' }).max(100, { message: 'must be 1..100' });

const transforms = z
  .strictObject({
    widths: z
      .array(width)
      .min(1, { message: 'must list at least one width, such as [64, 128, 256, 512]' })
      .max(16, { message: 'at most 16 widths: each is one more cached copy of every image asked for' })
      .describe('The widths in pixels a client may ask for, as pathPrefix/width/image path; any other width is refused by haproxy (400) before it costs CPU. Images are only ever shrunk: an image narrower than the width is served as it is.'),
    pathPrefix: z
      .string()
      .regex(/^\/[a-z0-9_-]{1,32}$/, { message: 'must be one path segment of lowercase letters, digits, _ and -, such as /_w' })
      .default('/_w')
      .describe('The first path segment of a derived image: /_w/256/photos/cat.jpg is photos/cat.jpg 256 pixels wide. Reserved: no original may live under it.'),
    formats: z
      .array(z.enum(FORMATS, { message: `must be one of ${FORMATS.join(', ')}` }))
      .max(FORMATS.length, { message: `at most ${FORMATS.length} formats: ${FORMATS.join(', ')}` })
      .default([])
      .describe('Formats a derived image is also made in, for browsers whose Accept header names them (image/avif, image/webp), the first a browser takes winning; any other browser gets the original\'s format. Each is one more cached copy of each derived image asked for. [] (the default): the original\'s format only.'),
    jpegQuality: quality.default(80).describe('JPEG quality of a derived JPEG; lower is smaller and blurrier, above 95 rarely pays.'),
    webpQuality: quality.default(80).describe('WebP quality of a derived WebP (from a WebP original, or for a browser that takes WebP). PNG and GIF are lossless and have no quality.'),
    avifQuality: quality.default(50).describe('AVIF quality of a derived AVIF (libvips heifsave Q); lower is smaller and blurrier.'),
    avifEffort: z
      .number()
      .int({ message: 'must be a whole number 0..9' })
      .min(0, { message: 'must be 0..9' })
      .max(9, { message: 'must be 0..9' })
      .default(2)
      .describe('CPU the AV1 encoder spends per AVIF (0 fastest, 9 smallest files); the AVIF rows of `npm run bench -- transform` show what the shipped value costs.'),
    maxSourceMiB: z
      .number()
      .int()
      .min(1, { message: 'must be 1..64 MiB' })
      .max(64, { message: 'must be 1..64 MiB' })
      .default(16)
      .describe('Largest original the thumbnailer reads; a larger one is answered 415 and not cached. The unit\'s MemoryMax= allows three times this per worker.'),
    maxSourceMegapixels: z
      .number()
      .int({ message: 'must be a whole number of megapixels' })
      .min(1, { message: 'must be 1..1000 megapixels' })
      .max(1000, { message: 'must be 1..1000 megapixels' })
      .default(40)
      .describe('Largest original in pixels (width x height, from its header, before any pixel is decoded); a larger one, such as a decompression bomb, is answered 415 and not cached.'),
    timeoutSec: z
      .number()
      .int({ message: 'must be a whole number of seconds' })
      .min(1, { message: 'must be 1..120 seconds' })
      .max(120, { message: 'must be 1..120 seconds' })
      .default(10)
      .describe('Longest one transform may take, and longest a request waits for a free worker; past it the answer is 503 (not cached) and an overrunning worker is replaced.'),
    workers: z
      .number()
      .int({ message: 'must be a whole number' })
      .min(1, { message: 'must be 1..16' })
      .max(16, { message: 'must be 1..16' })
      .default(2)
      .describe('Transforms at once per nginx cache: one worker process each, one core at most each (the unit\'s CPUQuota= and MemoryMax= follow from it).'),
  })
  .describe('Derived images: widths (and with `formats`, AVIF and WebP) made from the originals by libvips in anycdn-thumbnailer, once per object at the shield site (or at each site without a shield), and cached like any image.');

export const images = z
  .strictObject({
    transforms: transforms.optional(),
  })
  .optional()
  .describe('Optional. Derived images (thumbnails).');
