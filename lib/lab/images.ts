// The origin's images: real PNG files (valid signature, IHDR, IDAT, IEND, CRCs) of realistic
// sizes, from a seeded generator, so every lab run serves the same bytes.
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A deterministic pseudo-random generator in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An RGB PNG of width x height whose noise level (0..255) sets how well it compresses. */
export function png(width: number, height: number, seed: number, noise = 96): Buffer {
  const next = rng(seed);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0;
    for (let x = 0; x < width * 3; x++) raw[row + 1 + x] = (x * 7 + y * 3 + Math.floor(next() * noise)) & 0xff;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 1 })), chunk('IEND', Buffer.alloc(0))]);
}

/** The lab's image set: `count` images from thumbnails (~10 KB) to photos (~300 KB). */
export function imageSet(count: number): { name: string; data: Buffer }[] {
  const sizes = [48, 96, 160, 240, 320];
  return Array.from({ length: count }, (_, i) => {
    const side = sizes[i % sizes.length]!;
    return { name: `img/${String(i).padStart(4, '0')}.png`, data: png(side, side, i + 1) };
  });
}

/**
 * Photos for derived images (images.transforms): wider than every shipped width, so each one is
 * really shrunk (image_filter never enlarges), and smooth enough to compress like a photo.
 */
export function photoSet(): { name: string; data: Buffer; width: number; height: number }[] {
  const sizes: [number, number][] = [
    [1024, 683],
    [800, 600],
    [1200, 800],
    [640, 960],
  ];
  return sizes.map(([width, height], i) => ({ name: `photo/${String(i).padStart(4, '0')}.png`, data: png(width, height, 1000 + i, 24), width, height }));
}

/** Width and height from a PNG's IHDR, a JPEG's first SOF marker, a WebP's first chunk or an AVIF's ispe; undefined for anything else. */
export function imageSize(b: Buffer): { type: 'png' | 'jpeg' | 'webp' | 'avif'; width: number; height: number } | undefined {
  if (b.length >= 30 && b.toString('ascii', 0, 4) === 'RIFF' && b.toString('ascii', 8, 12) === 'WEBP') return webpSize(b);
  if (b.length >= 12 && b.toString('ascii', 4, 8) === 'ftyp' && ['avif', 'avis'].includes(b.toString('ascii', 8, 12))) {
    // The first image spatial extent property (ispe): version and flags, then width and height.
    const at = b.indexOf('ispe', 12, 'ascii');
    return at < 0 || at + 16 > b.length ? undefined : { type: 'avif', width: b.readUInt32BE(at + 8), height: b.readUInt32BE(at + 12) };
  }
  if (b.length >= 24 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) && b.toString('ascii', 12, 16) === 'IHDR') {
    return { type: 'png', width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  }
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    const len = b.readUInt16BE(i + 2);
    // SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { type: 'jpeg', height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  return undefined;
}

/** A WebP's size from its first chunk: VP8X (extended), VP8L (lossless) or VP8 (lossy). */
function webpSize(b: Buffer): { type: 'webp'; width: number; height: number } | undefined {
  const chunk = b.toString('ascii', 12, 16);
  if (chunk === 'VP8X') return { type: 'webp', width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) };
  if (chunk === 'VP8L' && b[20] === 0x2f) {
    const bits = b.readUInt32LE(21);
    return { type: 'webp', width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
  }
  if (chunk === 'VP8 ' && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) return { type: 'webp', width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
  return undefined;
}

/** Whether a JPEG is progressive: its frame header is SOF2 (or another progressive SOF). */
export function isProgressiveJpeg(b: Buffer): boolean {
  let i = 2;
  while (i + 4 < b.length && b[i] === 0xff) {
    const marker = b[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return [0xc2, 0xc6, 0xca, 0xce].includes(marker);
    i += 2 + b.readUInt16BE(i + 2);
  }
  return false;
}
