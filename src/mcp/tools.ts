import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Caller } from '../auth/accounts.ts';
import type { PriceBook } from '../billing/price-book.ts';
import { ApiError } from '../contract/errors.ts';
import { FILE_ID_PATTERN } from '../contract/files.ts';
import { type ModelSpec, requestJsonSchema } from '../contract/model-spec.ts';
import { MODELS, usableModels } from '../contract/models/index.ts';
import { isTerminal, type TaskView } from '../contract/task-view.ts';
import type { FileService } from '../files/service.ts';
import type { TaskEvents } from '../tasks/events.ts';
import type { TaskService } from '../tasks/service.ts';

/**
 * The MCP tools of CONTRACT §11.2 for one caller. Each goes through the public API in this
 * process (Fastify's inject, with the caller's own Authorization), so its checks, limits and
 * errors are the API's; `wait_for_task` follows the task events; `list_models` and the
 * generate schema come from the model registry, narrowed to what this key may use.
 */

export type ToolsDeps = {
  api: FastifyInstance;
  tasks: TaskService;
  events: TaskEvents;
  files: FileService;
  served: ReadonlySet<string>;
  prices: PriceBook;
};

export type Tool = { name: string; title: string; description: string; inputSchema: Record<string, unknown>; annotations?: Record<string, boolean> };
export type ToolResult = { content: { type: 'text'; text: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };
/** What a call may use besides its arguments: the client leaving, and MCP progress notifications. */
export type CallContext = { signal: AbortSignal; progress?: (progress: number, message: string) => Promise<void> };

const taskIdArgs = z.object({ task_id: z.string().describe('The id generate_video answered (task-unified-…)') });
const waitArgs = taskIdArgs.extend({
  timeout_s: z.number().int().min(1).max(3600).default(600).describe('How long to wait before answering the task as it is then (default 600)'),
});
const uploadArgs = z
  .object({
    url: z.string().optional().describe('A public http(s) URL of an image, video or audio file'),
    base64: z.string().optional().describe('Or the file itself, base64-encoded (a data: URL also works), with file_name'),
    file_name: z.string().optional().describe('The name of a base64 file, e.g. start.png'),
  })
  .strict()
  .refine((args) => (args.url === undefined) !== (args.base64 === undefined), { message: 'give either url or base64 (with file_name)', path: ['url'] })
  .refine((args) => args.base64 === undefined || args.file_name !== undefined, { message: 'is needed with base64', path: ['file_name'] });

/** Arguments the tool's own schema describes; the §1 error names the field when they do not fit. */
function parsed<T extends z.ZodType>(schema: T, args: unknown): z.output<T> {
  const result = schema.safeParse(args);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.') || 'arguments';
  throw new ApiError('invalid_request', `${field}: ${issue.message}`, { param: field });
}

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;

const FILE_NOTE = ' Takes a URL, or the file_id that upload_file answered.';

/** The model's create schema as the tool offers it: media fields take a URL or an uploaded file's id. */
function toolModelSchema(model: ModelSpec): { name: string; schema: Record<string, unknown>; media: Set<string> } {
  const full = requestJsonSchema(model) as { $ref: string; $defs: Record<string, Record<string, unknown>> };
  const name = full.$ref.replace('#/$defs/', '');
  const media = new Set<string>();
  const schema = JSON.parse(JSON.stringify(full.$defs[name]), function (this: Record<string, unknown>, key, value) {
    if (value && typeof value === 'object' && (value as Record<string, unknown>)['x-vidgate-media']) {
      const { format: _uri, 'x-vidgate-media': _media, ...rest } = value as Record<string, unknown>;
      return { ...rest, description: `${String(rest.description ?? 'A media file.')}${FILE_NOTE}` };
    }
    return value;
  }) as { properties: Record<string, Record<string, unknown>> };
  for (const [field, property] of Object.entries(full.$defs[name].properties as Record<string, Record<string, unknown>>)) {
    if (property['x-vidgate-media'] || (property.items as Record<string, unknown> | undefined)?.['x-vidgate-media']) media.add(field);
  }
  return { name, schema: { title: model.id, ...schema }, media };
}

const MODEL_SCHEMAS = new Map(Object.values(MODELS).map((model) => [model.id, toolModelSchema(model)]));

/**
 * `oneOf` the models' schemas, with each field schema that more than one model has written once
 * under `$defs` (74 models repeat seed, prompt, quality…: a third of the size).
 */
function sharedDefinitions(schemas: Record<string, unknown>[]): { oneOf: Record<string, unknown>[]; $defs?: Record<string, unknown> } {
  const seen = new Map<string, number>();
  for (const schema of schemas) for (const property of Object.values(schema.properties as object)) seen.set(JSON.stringify(property), (seen.get(JSON.stringify(property)) ?? 0) + 1);
  const names = new Map([...seen].filter(([, count]) => count > 1).map(([text], i) => [text, `field${i + 1}`]));
  if (names.size === 0) return { oneOf: schemas };
  const oneOf = schemas.map((schema) => ({
    ...schema,
    properties: Object.fromEntries(Object.entries(schema.properties as object).map(([field, property]) => {
      const name = names.get(JSON.stringify(property));
      return [field, name ? { $ref: `#/$defs/${name}` } : property];
    })),
  }));
  return { oneOf, $defs: Object.fromEntries([...names].map(([text, name]) => [name, JSON.parse(text)])) };
}

/** One line per field for list_models: its type, choices or bounds, and what it is. */
function fieldSummary(property: Record<string, unknown>): string {
  const items = property.items as Record<string, unknown> | undefined;
  const type = property.enum ? (property.enum as unknown[]).map((v) => JSON.stringify(v)).join(' | ') : property.type === 'array' ? `${String(items?.type ?? 'any')}[]` : String(property.type ?? 'any');
  const bounds = property.minimum !== undefined ? ` ${property.minimum}–${property.maximum}` : '';
  const fallback = property.default !== undefined ? ` (default ${JSON.stringify(property.default)})` : '';
  return `${type}${bounds}${fallback}${property.description ? ` — ${String(property.description)}` : ''}`;
}

export class McpTools {
  private readonly deps: ToolsDeps;
  private readonly caller: Caller;
  private readonly authorization: string;

  constructor(deps: ToolsDeps, caller: Caller, authorization: string) {
    this.deps = deps;
    this.caller = caller;
    this.authorization = authorization;
  }

  private usable(): ModelSpec[] {
    return usableModels(this.deps.served, this.caller.allowedModels);
  }

  list(): Tool[] {
    const models = this.usable();
    const model = { type: 'string', enum: models.map((m) => m.id), description: 'Which model; the other fields are those of that model (list_models describes them).' };
    const generate = { type: 'object', properties: { model }, required: ['model'], ...sharedDefinitions(models.map((m) => MODEL_SCHEMAS.get(m.id)!.schema)) };
    const estimate = { type: 'object', properties: { model }, required: ['model'], additionalProperties: true, description: 'The same fields as generate_video.' };
    return [
      { name: 'list_models', title: 'List video models', description: 'The video models this key may use: kind (t2v, i2v, edit, …), fields with their types and limits, and prices in credits.', inputSchema: { type: 'object', properties: {} }, annotations: { readOnlyHint: true } },
      {
        name: 'generate_video', title: 'Generate a video',
        description: 'Creates a video generation task and answers its id, the credits reserved and the time estimate; then call wait_for_task. Media fields take a URL or a file_id from upload_file.',
        inputSchema: generate,
      },
      { name: 'get_task', title: 'Get a task', description: 'A task as it is now: status, progress, and result URLs once completed.', inputSchema: jsonSchema(taskIdArgs), annotations: { readOnlyHint: true } },
      {
        name: 'wait_for_task', title: 'Wait for a task',
        description: 'Waits until the task completes, fails or is cancelled (or timeout_s passes), sending progress notifications, and answers the task with its result URLs. Leaving early does not stop the task.',
        inputSchema: jsonSchema(waitArgs), annotations: { readOnlyHint: true },
      },
      { name: 'cancel_task', title: 'Cancel a task', description: 'Cancels a task that has not finished; its reserved credits go back.', inputSchema: jsonSchema(taskIdArgs), annotations: { destructiveHint: true } },
      { name: 'get_credits', title: 'Credits left', description: "The credits left and used, the user's and this key's.", inputSchema: { type: 'object', properties: {} }, annotations: { readOnlyHint: true } },
      {
        name: 'upload_file', title: 'Upload a file',
        description: 'Stores an image, video or audio file for 72 hours, from a URL or from base64; answers file_id and file_url, either of which works as a media field of generate_video.',
        inputSchema: jsonSchema(uploadArgs),
      },
      { name: 'estimate_cost', title: 'Estimate a cost', description: 'What generate_video with these fields would reserve now, in credits, and how long it would take; creates nothing. Takes the same fields as generate_video.', inputSchema: estimate, annotations: { readOnlyHint: true } },
    ];
  }

  /** Runs a tool; an API error (or bad arguments) comes back as a tool error carrying the §1 code and message. */
  async call(name: string, args: Record<string, unknown>, context: CallContext): Promise<ToolResult> {
    try {
      return await this.run(name, args, context);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const body = error.toBody();
      return { isError: true, content: [{ type: 'text', text: `${error.code}: ${error.message}` }], structuredContent: body };
    }
  }

  private async run(name: string, args: Record<string, unknown>, context: CallContext): Promise<ToolResult> {
    switch (name) {
      case 'list_models':
        return answer(`${this.usable().length} models.`, { models: this.models() });
      case 'generate_video': {
        const task = await this.request('POST', '/v1/videos/generations', await this.withFileUrls(args));
        return answer(`Task ${task.id} is ${task.status}: ${task.usage.credits_reserved} credits reserved, about ${task.task_info.estimated_time} s. Call wait_for_task with this task_id.`, task);
      }
      case 'estimate_cost': {
        const estimate = await this.request('POST', '/v1/videos/generations/estimate', await this.withFileUrls(args));
        return answer(`${estimate.model} at ${estimate.quality}: ${estimate.credits} credits, about ${estimate.estimated_time} s.`, estimate);
      }
      case 'get_task': {
        const task = await this.request('GET', `/v1/tasks/${encodeURIComponent(parsed(taskIdArgs, args).task_id)}`);
        return answer(describeTask(task), task);
      }
      case 'wait_for_task':
        return this.waitForTask(parsed(waitArgs, args), context);
      case 'cancel_task': {
        const cancelled = await this.request('DELETE', `/v1/tasks/${encodeURIComponent(parsed(taskIdArgs, args).task_id)}`);
        return answer(cancelled.message, cancelled);
      }
      case 'get_credits': {
        const credits = (await this.request('GET', '/v1/credits')).data;
        return answer(`${credits.user.remaining_credits} credits left to the user, ${credits.token.remaining_credits} to this key.`, credits);
      }
      case 'upload_file': {
        const upload = parsed(uploadArgs, args);
        const body = upload.url !== undefined ? { file_url: upload.url } : { base64_data: upload.base64, file_name: upload.file_name };
        const file = (await this.request('POST', `/api/v1/files/upload/${upload.url !== undefined ? 'url' : 'base64'}`, body)).data;
        return answer(`Uploaded ${file.file_name} as ${file.file_id} (${file.mime_type}, ${file.file_size} bytes), until ${file.expires_at}.`, file);
      }
      default:
        throw new ApiError('invalid_request', `name: no tool "${name.slice(0, 80)}" (tools/list names them)`, { param: 'name' });
    }
  }

  private models(): Record<string, unknown>[] {
    return this.usable().map((model) => {
      const { rule, ...prices } = this.deps.prices.entry(model.id)!;
      const { properties, required } = MODEL_SCHEMAS.get(model.id)!.schema as { properties: Record<string, Record<string, unknown>>; required?: string[] };
      const fields = Object.fromEntries(Object.entries(properties).filter(([field]) => field !== 'model').map(([field, property]) => [field, fieldSummary(property)]));
      return { id: model.id, family: model.family, kind: model.kind, billing_rule: rule, prices, required: (required ?? []).filter((f) => f !== 'model'), fields };
    });
  }

  /** Media fields given as an uploaded file's id become its URL (the caller's own, live files only). */
  private async withFileUrls(args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const media = typeof args.model === 'string' ? MODEL_SCHEMAS.get(args.model)?.media : undefined;
    if (!media) return args; // the API names a wrong model
    const out = { ...args };
    const resolve = async (value: unknown, field: string) => (typeof value === 'string' && FILE_ID_PATTERN.test(value) ? this.deps.files.ownFileUrl(this.caller, value, field) : value);
    for (const field of media) {
      const value = out[field];
      out[field] = Array.isArray(value) ? await Promise.all(value.map((item, i) => resolve(item, `${field}[${i}]`))) : await resolve(value, field);
    }
    return out;
  }

  /** The task once it has ended, or as it is when `timeout_s` passes or the client leaves (the task goes on either way). */
  private async waitForTask(args: z.output<typeof waitArgs>, context: CallContext): Promise<ToolResult> {
    const row = await this.deps.tasks.ownTask(this.caller, args.task_id);
    let last: TaskView | null = null;
    let reported = -1;
    const follower = this.deps.events.follow(row, (task) => {
      last = task;
      if (task.progress > reported || (reported === -1 && task.progress === 0)) {
        reported = task.progress;
        void context.progress?.(task.progress, `${task.status} ${task.progress}%`).catch(() => {});
      }
    });
    const timer = setTimeout(() => follower.stop(), args.timeout_s * 1000);
    const leave = () => follower.stop();
    context.signal.addEventListener('abort', leave, { once: true });
    try {
      await follower.ended;
    } finally {
      clearTimeout(timer);
      context.signal.removeEventListener('abort', leave);
    }
    const task = last! as TaskView; // follow() calls onTask with the current state before it returns
    const note = isTerminal(task.status) ? '' : ` Still going after ${args.timeout_s} s: call wait_for_task again.`;
    return answer(`${describeTask(task)}${note}`, task as unknown as Record<string, unknown>);
  }

  /** A call to the public API as this caller; a 4xx/5xx answer is thrown as the ApiError it carries. */
  private async request(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<any> {
    const response = await this.deps.api.inject({
      method, url, headers: { authorization: this.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, payload: body === undefined ? undefined : JSON.stringify(body),
    });
    const parsedBody = response.json();
    if (response.statusCode >= 400) {
      const error = parsedBody.error ?? {};
      throw new ApiError(error.code ?? 'internal_error', error.message ?? `the API answered ${response.statusCode}`, { param: error.param });
    }
    return parsedBody;
  }
}

function describeTask(task: any): string {
  if (task.status === 'completed') return `Task ${task.id} completed: ${(task.results ?? []).join(' ')}`;
  if (task.status === 'failed') return `Task ${task.id} failed: ${task.error?.code}: ${task.error?.message}`;
  return `Task ${task.id} is ${task.status} (${task.progress}%).`;
}

function answer(summary: string, value: Record<string, unknown>): ToolResult {
  return { content: [{ type: 'text', text: `${summary}\n${JSON.stringify(value, null, 2)}` }], structuredContent: value };
}
