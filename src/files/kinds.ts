import { fileTypeFromFile } from 'file-type';
import { invalidField } from '../contract/errors.ts';

/**
 * What the Files API stores, by sniffed MIME type, with the extension its URL gets. The hosted
 * service takes images only; vidgate also takes the clips and audio its models read.
 */
export const FILE_KINDS: Readonly<Record<string, string>> = Object.freeze({
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'audio/wav': 'wav',
  'audio/mpeg': 'mp3',
});

export const ACCEPTED_FILE_TYPES = 'JPEG, PNG, GIF, WEBP, BMP, MP4, MOV, WAV or MP3';

/** The MIME type of a stored upload, read from its content; null when it is none we take. */
export async function sniffFileType(file: string): Promise<string | null> {
  const found = await fileTypeFromFile(file);
  return found && found.mime in FILE_KINDS ? found.mime : null;
}

const UNSAFE = /[^A-Za-z0-9._-]+/g;

/** A file name safe in a URL path segment and a Content-Disposition header; its extension follows the content. */
export function safeFileName(wanted: string | undefined, mime: string, fallback: string): string {
  const ext = FILE_KINDS[mime];
  const base = (wanted ?? '').split(/[\\/]/).pop()!.replace(UNSAFE, '-').replace(/^[.-]+/, '').slice(0, 100);
  const stem = base.replace(/\.[A-Za-z0-9]{1,5}$/, '') || fallback;
  return `${stem}.${ext}`;
}

const PATH_SEGMENT = /^[A-Za-z0-9_-]{1,50}$/;

/** Checks an upload_path the client asked for: up to 5 folder names; 400 naming the field otherwise. */
export function checkUploadPath(wanted: string | undefined): string | undefined {
  if (wanted === undefined || wanted.trim() === '') return undefined;
  const segments = wanted.replace(/^\/+|\/+$/g, '').split('/');
  if (segments.length > 5 || !segments.every((s) => PATH_SEGMENT.test(s))) {
    throw invalidField('upload_path', 'must be up to 5 folder names of letters, digits, _ or -, separated by /');
  }
  return segments.join('/');
}

/** The folder an upload is filed under: the one asked for, or one by its kind. */
export function uploadFolder(checked: string | undefined, mime: string): string {
  return checked ?? (mime.startsWith('image/') ? 'images' : mime.startsWith('video/') ? 'videos' : 'audio');
}
