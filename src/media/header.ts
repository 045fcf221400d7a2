import { fileTypeFromFile } from 'file-type';
import { imageSizeFromFile } from 'image-size/fromFile';
import type { MediaInfo } from '../contract/media-limits.ts';

/** What a medium's first bytes say, before anything decodes it. */
export type MediaHeader = {
  /** The container, when the bytes name one ('other' for a known format the contract does not take). */
  container?: MediaInfo['container'];
  /** The sniffer's short name for the format (gif, webm, …). */
  name?: string;
  /** An image's size from its header. */
  width?: number;
  height?: number;
};

const CONTAINERS: Record<string, MediaInfo['container']> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/bmp': 'bmp',
  'image/webp': 'webp',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'audio/wav': 'wav',
  'audio/mpeg': 'mp3',
};

/** Sniffs a file's format and, for an image, its size from the header (CONTRACT §8.2); never decodes pixels. */
export async function readMediaHeader(file: string): Promise<MediaHeader> {
  const type = await fileTypeFromFile(file).catch(() => undefined);
  if (!type) return {};
  const header: MediaHeader = { container: CONTAINERS[type.mime] ?? 'other', name: type.ext };
  if (type.mime.startsWith('image/')) {
    const size = await imageSizeFromFile(file).catch(() => null);
    if (size?.width && size.height) {
      const quarterTurn = (size.orientation ?? 1) >= 5; // EXIF orientations 5–8 swap width and height
      header.width = quarterTurn ? size.height : size.width;
      header.height = quarterTurn ? size.width : size.height;
    }
  }
  return header;
}
