import { z } from 'zod';
import { httpUrl } from './fields.ts';

export const FILE_ID_PATTERN = /^file_[a-z0-9]{24}$/;

/** Names the client may ask for; the hosted service takes both spellings. */
const nameFields = {
  upload_path: z.string().max(300).optional().describe('Folder to file it under (default: by kind: images, videos, audio)'),
  uploadPath: z.string().max(300).optional().describe('Same as upload_path'),
  file_name: z.string().max(300).optional().describe('Name in its URL (default: generated); the extension follows the content'),
  fileName: z.string().max(300).optional().describe('Same as file_name'),
};

export const base64UploadSchema = z
  .object({
    base64_data: z.string().min(1).describe('Base64, or a data URL (data:image/png;base64,…)'),
    ...nameFields,
  })
  .meta({ id: 'Base64UploadRequest' });

export const urlUploadSchema = z
  .object({
    file_url: httpUrl(4096, 'file').describe('A public http(s) URL; fetched through the outbound guard'),
    ...nameFields,
  })
  .meta({ id: 'UrlUploadRequest' });

/** The names an upload asked for, whichever spelling it used. */
export type UploadNames = { uploadPath?: string; fileName?: string; originalName?: string };

export function uploadNames(fields: { upload_path?: string; uploadPath?: string; file_name?: string; fileName?: string }): UploadNames {
  return { uploadPath: fields.upload_path ?? fields.uploadPath, fileName: fields.file_name ?? fields.fileName };
}

export const fileDataSchema = z.object({
  file_id: z.string(),
  file_name: z.string(),
  original_name: z.string(),
  file_size: z.number().int(),
  mime_type: z.string(),
  upload_path: z.string(),
  file_url: z.string().describe('Served by vidgate until expires_at; accepted as a media URL by every model'),
  download_url: z.string().describe('The same file as an attachment'),
  upload_time: z.string().describe('ISO 8601'),
  expires_at: z.string().describe('ISO 8601; 72 h after upload by default'),
});

export type FileData = z.infer<typeof fileDataSchema>;

export const fileUploadResponseSchema = z
  .object({ success: z.literal(true), code: z.literal(200), msg: z.string(), data: fileDataSchema })
  .meta({ id: 'FileUploadResponse' });

export const quotaResponseSchema = z
  .object({
    success: z.literal(true),
    code: z.literal(200),
    data: z.object({
      user_group: z.string(),
      used_files: z.number().int(),
      max_files: z.number().int(),
      remain_files: z.number().int(),
      is_custom: z.boolean(),
      quota_reason: z.string(),
      used_bytes: z.number().int().describe('Beyond the hosted API: bytes of live files'),
      max_bytes: z.number().int(),
      remain_bytes: z.number().int(),
    }),
  })
  .meta({ id: 'FileQuota' });

export type QuotaData = z.infer<typeof quotaResponseSchema>['data'];
