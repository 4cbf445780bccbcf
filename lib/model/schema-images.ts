// The derived images (thumbnails) a CDN may make: `images.transforms` in sites/cdn.yaml. Only what
// the engine really does is offered. The engine is nginx's image_filter module (Debian package
// libnginx-mod-http-image-filter, libgd underneath): it shrinks JPEG, PNG, GIF and WebP
// proportionally and writes the source's own format, so there is a width list and a quality per
// lossy format, and no format conversion (image_filter cannot turn a JPEG into a WebP).
// Cross-field rules (which sites transform, clashes with other paths) are rules/images.ts.
import { z } from 'zod';

/** The widths a request may ask for: at least 16 px (smaller is an icon, not a thumbnail), at most 4096. */
export const MIN_WIDTH = 16;
export const MAX_WIDTH = 4096;

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
    jpegQuality: quality.default(80).describe('JPEG quality of a derived JPEG (image_filter_jpeg_quality); lower is smaller and blurrier, above 95 rarely pays.'),
    webpQuality: quality.default(80).describe('WebP quality of a derived WebP (image_filter_webp_quality). PNG and GIF are lossless and have no quality.'),
    maxSourceMiB: z
      .number()
      .int()
      .min(1, { message: 'must be 1..64 MiB' })
      .max(64, { message: 'must be 1..64 MiB' })
      .default(16)
      .describe('Largest original the transform reads (image_filter_buffer); a larger one is answered 415 and not cached. Each transform in flight holds this much memory at most.'),
  })
  .describe('Derived images: widths made from the originals by nginx image_filter, once per object at the shield site (or at each site without a shield), and cached like any image.');

export const images = z
  .strictObject({
    transforms: transforms.optional(),
  })
  .optional()
  .describe('Optional. Derived images (thumbnails).');
