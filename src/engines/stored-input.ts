import { createHash } from 'node:crypto';
import { createReadStream, openAsBlob } from 'node:fs';
import type { RenderInput } from './engine.ts';

const MEDIA_TYPES: Record<string, { mime: string; ext: string }> = {
  jpeg: { mime: 'image/jpeg', ext: 'jpg' },
  png: { mime: 'image/png', ext: 'png' },
  bmp: { mime: 'image/bmp', ext: 'bmp' },
  webp: { mime: 'image/webp', ext: 'webp' },
  mp4: { mime: 'video/mp4', ext: 'mp4' },
  mov: { mime: 'video/quicktime', ext: 'mov' },
  wav: { mime: 'audio/wav', ext: 'wav' },
  mp3: { mime: 'audio/mpeg', ext: 'mp3' },
};

/** The MIME type of a stored input, from the container ffprobe found. */
export function inputMime(input: Pick<RenderInput, 'container'>): string {
  return MEDIA_TYPES[input.container]?.mime ?? 'application/octet-stream';
}

/** `<sha256 of the bytes>.<ext>`: the name an input is uploaded under, so equal bytes share a name and different ones never clash. */
export async function inputFileName(input: Pick<RenderInput, 'path' | 'container'>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(input.path)) hash.update(chunk as Buffer);
  return `${hash.digest('hex')}.${MEDIA_TYPES[input.container]?.ext ?? 'bin'}`;
}

/** The stored bytes as a Blob read from disk when sent (multipart bodies), never held in memory. */
export function inputBlob(input: Pick<RenderInput, 'path' | 'container'>): Promise<Blob> {
  return openAsBlob(input.path, { type: inputMime(input) });
}
