import { TaskFailure } from '../contract/errors.ts';
import { SubmitError, type UpstreamJob } from '../engines/upstream.ts';
import { UpstreamCallError } from '../engines/upstream-client.ts';
import type { Channel } from './channel.ts';
import type { InputUrls } from './input-urls.ts';

/**
 * The job as the channel's upstream must see it (CONTRACT §8.3): each input's URL replaced by
 * the copy of the probed bytes the upstream reads — in its own file store (`upload`) or at a
 * signed URL of ours (`signed_url`) — or left as the client's (`passthrough`, trusting clients).
 * An upload that fails started nothing upstream: the submit is retryable on the next channel.
 */
export async function deliverInputs(job: UpstreamJob, channel: Channel, inputUrls: InputUrls, now: number, signal: AbortSignal): Promise<UpstreamJob> {
  const inputs = Object.values(job.inputs);
  if (inputs.length === 0) return job;
  const { input_delivery: mode, timeout } = channel.settings;
  if (mode === 'passthrough') return job;
  let urls: Record<string, string>;
  if (mode === 'signed_url') {
    urls = Object.fromEntries(inputs.map((input) => [input.field, inputUrls.url({ taskId: job.taskId, field: input.field }, now + timeout)]));
  } else {
    if (!channel.upstream?.uploadInputs) return job; // the engine hands the stored files over itself
    try {
      urls = await channel.upstream.uploadInputs(job, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      const reason = error instanceof UpstreamCallError ? 'could not be reached' : 'refused the upload';
      throw new SubmitError('retryable', new TaskFailure('service_unavailable', `the upstream's file store ${reason}`, { cause: error }));
    }
  }
  return { ...job, inputs: Object.fromEntries(inputs.map((input) => [input.field, { ...input, url: urls[input.field] ?? missing(input.field) }])) };
}

function missing(field: string): never {
  throw new SubmitError('retryable', new TaskFailure('service_unavailable', `the upstream's file store gave no URL for ${field}`));
}
