import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { createDeflate, crc32 } from 'node:zlib';

/**
 * A valid grayscale PNG of `width`×`height` black pixels that is tiny on disk (deflate squeezes
 * the zero rows ~1000:1) and huge once decoded: 16000×16000 is ~250 KB and 256 MB of pixels.
 * Made once in `dir`, streamed row by row so the test process never holds it.
 */
export async function pngBomb(dir: string, width = 16000, height = 16000): Promise<string> {
  const file = path.join(dir, `bomb-${width}x${height}.png`);
  if (existsSync(file)) return file;
  const deflate = createDeflate({ level: 9 });
  const compressed: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => compressed.push(chunk));
  const row = Buffer.alloc(width + 1); // filter byte 0, then the row's pixels
  for (let y = 0; y < height; y += 1) if (!deflate.write(row)) await once(deflate, 'drain');
  deflate.end();
  await once(deflate, 'end');
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth; colour type 0 (grayscale), the rest 0
  const partial = `${file}.${process.pid}.part`;
  const out = createWriteStream(partial);
  out.write(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  out.write(chunk('IHDR', header));
  out.write(chunk('IDAT', Buffer.concat(compressed)));
  out.end(chunk('IEND', Buffer.alloc(0)));
  await once(out, 'close');
  await rename(partial, file);
  return file;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}
