import { createWriteStream, existsSync, openAsBlob } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { formatBytes } from '../contract/media-limits.ts';
import type { CreateTaskRequest, Task, VidgateClient } from '../sdk/index.ts';
import { printJson, type RemoteOptions, runRemote, withRemoteOptions } from './remote.ts';
import { definedEntries } from '../util/objects.ts';
import { CATALOG_QUALITIES } from '../contract/output-size.ts';

type GenerateOptions = RemoteOptions & {
  model: string;
  prompt?: string;
  negativePrompt?: string;
  imageStart?: string;
  imageEnd?: string;
  video?: string;
  audio?: string;
  image: string[];
  mode?: string;
  duration?: number;
  quality?: string;
  aspectRatio?: string;
  seed?: number;
  keepOriginalSound?: boolean;
  promptExtend?: boolean;
  callbackUrl?: string;
  param: Record<string, unknown>;
  out?: string;
  wait: boolean;
};

/** `vidgate generate`: uploads local media, creates the task, follows it with a progress bar, saves the MP4. */
export function registerGenerateCommand(program: Command): void {
  withRemoteOptions(
    program
      .command('generate')
      .description('make a video on a running vidgate: local files are uploaded first, the MP4 is saved when done')
      .requiredOption('--model <id>', 'any model id of `GET /v1/models` (the whole EvoLink video catalog), e.g. seedance-2.0-text-to-video')
      .option('--prompt <text>', 'what to make, or the edit to apply')
      .option('--negative-prompt <text>', 'what to avoid (wan2.7)')
      .option('--image-start <file|url>', 'first frame (image-to-video)')
      .option('--image-end <file|url>', 'last frame (image-to-video)')
      .option('--video <file|url>', 'clip to continue, edit, upscale or lip-sync (video_urls or video_url, as the model names it)')
      .option('--audio <file|url>', 'driving audio or speech (audio_urls or audio_url, as the model names it)')
      .option('--image <file|url>', 'picture or reference image (image_urls); repeat for more', (value: string, all: string[]) => [...all, value], [])
      .option('--mode <mode>', 'generation_mode (image-to-video): first_frame, first_last_frame or video_continuation')
      .option('--duration <seconds>', 'output length in seconds', wholeNumber)
      .addOption(new Option('--quality <q>', 'output quality, as the model takes it').choices(CATALOG_QUALITIES))
      .option('--aspect-ratio <ratio>', 'e.g. 16:9, 9:16, 1:1')
      .option('--seed <n>', 'for repeatable output', wholeNumber)
      .option('--keep-original-sound', "keep the input clip's audio (video edits)")
      .option('--prompt-extend', 'let the model rewrite the prompt first (wan2.7; off by default)')
      .option('--callback-url <url>', 'also POST the finished task there')
      .option('--param <field=value>', 'any request field the model takes; the value is read as JSON when it parses (numbers, true, arrays, {…}), else as text; a local file in a media field is uploaded; repeat for more', parseParam, {})
      .option('-o, --out <file>', 'where to save the MP4 (default ./<task id>.mp4)')
      .option('--no-wait', 'print the task and return at once'),
  ).action((o: GenerateOptions) => runRemote(o, (client) => generate(client, o)));
}

/** A request field that takes media (`image_urls`, `video_url`, `ref_image_url`, `mask_url`, …): a local file in it is uploaded first. */
const isMediaField = (field: string) => /^(image|video|audio|ref_image|mask)(_start|_end|_urls?)?$|_url$/.test(field) && field !== 'callback_url';

/** The name a model gives a kind of input: the plural list where it has one (video_urls), else the singular (video_url). */
async function inputField(client: VidgateClient, model: string, kind: 'video' | 'audio'): Promise<{ name: string; list: boolean }> {
  const document = (await client.model(model)).input_schema as { $ref?: string; $defs?: Record<string, { properties?: object }>; properties?: object };
  const schema = document.$ref ? document.$defs![document.$ref.split('/').at(-1)!] : document;
  const fields = Object.keys(schema.properties ?? {});
  return fields.includes(`${kind}_urls`) || !fields.includes(`${kind}_url`) ? { name: `${kind}_urls`, list: true } : { name: `${kind}_url`, list: false };
}

async function generate(client: VidgateClient, o: GenerateOptions): Promise<void> {
  const video = o.video ? await inputField(client, o.model, 'video') : undefined;
  const audio = o.audio ? await inputField(client, o.model, 'audio') : undefined;
  const named = definedEntries({
    model: o.model,
    prompt: o.prompt,
    negative_prompt: o.negativePrompt,
    image_start: o.imageStart,
    image_end: o.imageEnd,
    ...(video ? { [video.name]: video.list ? [o.video] : o.video } : {}),
    ...(audio ? { [audio.name]: audio.list ? [o.audio] : o.audio } : {}),
    image_urls: o.image.length ? o.image : undefined,
    generation_mode: o.mode,
    duration: o.duration,
    quality: o.quality,
    aspect_ratio: o.aspectRatio,
    seed: o.seed,
    keep_original_sound: o.keepOriginalSound,
    prompt_extend: o.promptExtend ? true : undefined,
    callback_url: o.callbackUrl,
  });
  const twice = Object.keys(o.param).find((field) => field in named);
  if (twice) throw new InvalidArgumentError(`--param ${twice}: its own option already sets it`);
  const say = (line: string) => o.json || process.stderr.write(`${line}\n`);
  const upload = (value: string) => mediaUrl(client, value, say);
  const request: Record<string, unknown> = { ...named, ...o.param };
  await Promise.all(Object.keys(request).filter(isMediaField).map(async (field) => {
    const value = request[field];
    if (typeof value === 'string') request[field] = await upload(value);
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) request[field] = await Promise.all(value.map(upload));
  }));
  const created = await client.createTask(request as CreateTaskRequest);
  if (!o.wait) {
    say(`created ${created.id} (${created.usage.credits_reserved} credits reserved)`);
    return o.json ? printJson(created) : void process.stdout.write(`${created.id}\n`);
  }
  // Ctrl-C is caught before the id is shown: whoever reads the line may interrupt at once.
  const ctrlC = stopWaitingOnCtrlC(`stopped waiting; the task goes on: vidgate tasks get ${created.id}`);
  say(`created ${created.id} (${created.usage.credits_reserved} credits reserved)`);
  const task = await followTask(client, created, o.json === true, ctrlC.signal).finally(ctrlC.dispose);
  const file = path.resolve(o.out ?? `${task.id}.mp4`);
  await saveVideo(client, task.results![0], file);
  if (o.json) return printJson({ ...task, file });
  process.stdout.write(`saved ${file} (${formatBytes((await stat(file)).size)}, ${task.usage.credits_charged} credits)\n`);
}

/** A local file is uploaded and named by its file_url; an http(s) URL is passed on as it is. */
async function mediaUrl(client: VidgateClient, value: string, say: (line: string) => void): Promise<string> {
  if (/^https?:\/\//i.test(value)) return value;
  if (!existsSync(value)) throw new InvalidArgumentError(`${value}: no such file (give a local file or an http(s) URL)`);
  say(`uploading ${value} (${formatBytes((await stat(value)).size)})`);
  const uploaded = await client.uploadFile(await openAsBlob(value), { fileName: path.basename(value) });
  return uploaded.file_url;
}

/**
 * Waits for the task with a progress bar (status and ETA) on a terminal, or a line per status
 * change otherwise, until `signal` (Ctrl-C) stops the waiting, not the task.
 */
async function followTask(client: VidgateClient, created: Task, quiet: boolean, signal: AbortSignal): Promise<Task> {
  const tty = !quiet && process.stderr.isTTY;
  // The bar's characters are set, not left to cli-progress, which falls back to ==== in some terminals.
  const bar = tty
    ? new SingleBar({ format: ' {bar} {percentage}% | {status} | ETA {eta_s}', barCompleteChar: '\u2588', barIncompleteChar: '\u2591', stream: process.stderr, hideCursor: true, clearOnComplete: false })
    : null;
  bar?.start(100, 0, { status: created.status, eta_s: `${created.task_info.estimated_time}s` });
  let lastStatus = created.status;
  try {
    return await client.waitForTask(created.id, {
      signal,
      intervalMs: 500,
      maxIntervalMs: 5000,
      onProgress(task) {
        bar?.update(task.progress, { status: task.status, eta_s: task.status === 'completed' ? 'done' : `${task.task_info.estimated_time}s` });
        if (!tty && !quiet && task.status !== lastStatus) process.stderr.write(`${task.status} ${task.progress}%\n`);
        lastStatus = task.status;
      },
    });
  } finally {
    bar?.stop();
  }
}

/** An abort signal Ctrl-C fires (with `message`) instead of ending the process, until disposed. */
function stopWaitingOnCtrlC(message: string): { signal: AbortSignal; dispose(): void } {
  const stop = new AbortController();
  const interrupt = () => stop.abort(new Error(message));
  process.once('SIGINT', interrupt);
  return { signal: stop.signal, dispose: () => void process.removeListener('SIGINT', interrupt) };
}

/** Streams the result to `file` under a temporary name, so a half-written MP4 never has the final name. */
async function saveVideo(client: VidgateClient, url: string, file: string): Promise<void> {
  const response = await client.download(url);
  const partial = `${file}.part`;
  try {
    await pipeline(Readable.fromWeb(response.body as never), createWriteStream(partial));
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** `field=value` into the fields so far: JSON when the value parses, else the text as it is. */
function parseParam(pair: string, fields: Record<string, unknown>): Record<string, unknown> {
  const at = pair.indexOf('=');
  const field = pair.slice(0, Math.max(at, 0));
  if (!/^[a-z_][a-z0-9_]*$/i.test(field)) throw new InvalidArgumentError(`"${pair}" is not field=value`);
  if (field === 'model') throw new InvalidArgumentError('the model is --model');
  if (field in fields) throw new InvalidArgumentError(`${field} is given twice`);
  const text = pair.slice(at + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {} // plain text
  return { ...fields, [field]: value };
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}
