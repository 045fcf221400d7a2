import { z } from 'zod';
import { TaskFailure } from '../../contract/errors.ts';
import type { UpstreamStatus } from '../upstream.ts';

/** `GET /tasks/{id}` (UPSTREAMS.md §1.7); only what vidgate reads. */
export const taskQuerySchema = z.object({
  output: z.object({
    task_id: z.string(),
    task_status: z.string(),
    video_url: z.string().optional(),
    code: z.string().optional(),
    /** The prompt the task was created with: how a lookup tells our lost submit from another's task. */
    orig_prompt: z.string().optional(),
  }),
  usage: z
    .object({
      duration: z.number().optional(),
      input_video_duration: z.number().optional(),
      output_video_duration: z.number().optional(),
      /** The flat 2.5 / 2.6 models: the seconds generated (UPSTREAMS-2.md §2.5). */
      video_duration: z.number().optional(),
    })
    .partial()
    .optional(),
});

/** The create answer: `{request_id, output: {task_id, task_status}}`, or `{code, message}` on errors. */
export const createSchema = z.object({ output: z.object({ task_id: z.string().min(1) }) });
export const errorSchema = z.object({ code: z.string().optional() });

/** The batch list `GET /tasks?status=…&page_no=…&page_size=…`: task ids with their status. */
export const listSchema = z.object({
  data: z.array(z.object({ task_id: z.string(), status: z.string(), model_name: z.string().optional() })).default([]),
  total: z.number().optional(),
  total_page: z.number().optional(),
});

/** DashScope's task status → ours (UPSTREAMS.md §1.7, §3). */
export function statusOf(query: z.infer<typeof taskQuerySchema>): UpstreamStatus {
  const { output, usage } = query;
  switch (output.task_status) {
    case 'PENDING':
      return { state: 'queued' };
    case 'RUNNING':
      return { state: 'running' };
    case 'SUCCEEDED': {
      if (!output.video_url) return { state: 'failed', failure: new TaskFailure('generation_failed_no_content', 'the upstream finished without a video') };
      return { state: 'succeeded', result: { url: output.video_url, billedSeconds: billedSeconds(usage) } };
    }
    case 'FAILED':
      return { state: 'failed', failure: failureFor(output.code) };
    case 'CANCELED':
      return { state: 'cancelled' };
    case 'UNKNOWN':
      return { state: 'lost' };
    default:
      return { state: 'unrecognised', status: output.task_status.slice(0, 40) };
  }
}

/** 2.7, 3.0 and HappyHorse report `duration` = input + output seconds; others the parts, or 2.5 / 2.6 `video_duration`. */
function billedSeconds(usage: z.infer<typeof taskQuerySchema>['usage']): number | undefined {
  if (!usage) return undefined;
  if (usage.duration !== undefined) return usage.duration;
  if (usage.video_duration !== undefined) return usage.video_duration;
  if (usage.output_video_duration === undefined) return undefined;
  return usage.output_video_duration + (usage.input_video_duration ?? 0);
}

// Codes that say the channel itself is unusable (account, key, model access): another channel may work.
const CHANNEL_CODES = /^(Arrearage|InvalidApiKey|AccessDenied|Model\.AccessDenied|Workspace\.AccessDenied|ModelNotFound|Throttling|AllocationQuota)/;

export function isChannelCode(code: string | undefined): boolean {
  return code !== undefined && CHANNEL_CODES.test(code);
}

/**
 * An upstream error code → the task error (CONTRACT §3), with our own words: upstream messages
 * can carry ids and are never passed on.
 */
export function failureFor(code: string | undefined): TaskFailure {
  const c = code ?? '';
  if (/DataInspection|Moderation|IPInfringement|Sensitive/i.test(c)) return new TaskFailure('content_policy_violation', 'the request or its result was refused by content moderation');
  if (/^InvalidImage|^InvalidFile\.Image/.test(c)) return new TaskFailure('image_processing_error', 'an input image could not be processed by the model');
  if (/^(Invalid|BadRequest|UnsupportedOperation|InternalError\.Algo\.InvalidParameter)/.test(c)) return new TaskFailure('invalid_parameters', 'the model refused the request\'s parameters or media');
  if (/^(Throttling|AllocationQuota)/.test(c)) return new TaskFailure('resource_exhausted', 'the upstream service is at capacity; try again later');
  if (/^(Arrearage|InvalidApiKey|AccessDenied|Model\.AccessDenied|Workspace\.AccessDenied|ModelNotFound)/.test(c)) return new TaskFailure('service_unavailable', 'the upstream service is not available to this gateway');
  if (/^InternalError|Timeout/i.test(c)) return new TaskFailure('service_error', 'the upstream service failed while making the video');
  return new TaskFailure('unknown_error', 'the upstream service could not make the video');
}

const numberish = z.union([z.number(), z.string()]).optional();

/** `GET /uploads?action=getPolicy` (UPSTREAMS-2.md §1.1.2): numbers may come as strings. */
export const uploadPolicySchema = z.object({
  data: z.object({
    policy: z.string(),
    signature: z.string(),
    upload_dir: z.string(),
    upload_host: z.string(),
    oss_access_key_id: z.string(),
    x_oss_object_acl: z.string().optional(),
    x_oss_forbid_overwrite: z.union([z.string(), z.boolean()]).optional(),
    expire_in_seconds: numberish,
    max_file_size_mb: numberish,
  }),
});
