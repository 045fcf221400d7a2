import { z } from 'zod';
import { MODEL_IDS } from '../contract/models/index.ts';
import { ENGINE_CATALOG, ENGINE_NAMES, type EngineName } from '../engines/catalog.ts';
import { loadWorkflow } from '../engines/comfyui/workflow.ts';
import { durationMs, int } from '../util/setting-fields.ts';

/** The ways an upstream may get a task's inputs (CONTRACT §8.3). */
export const INPUT_DELIVERIES = ['upload', 'signed_url', 'passthrough'] as const;

const modelList = z.union([
  z.array(z.string()).min(1, { error: 'must name at least one model' }),
  z.record(z.string(), z.string().min(1)),
]);

/** One channel as the config file writes it (CONTRACT §7). */
export const channelSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1–64 letters, digits, _ . or -'),
  engine: z.enum(ENGINE_NAMES, { error: `must be one of ${ENGINE_NAMES.join(', ')}` }),
  base_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** The environment variable that holds the upstream credential (never the credential itself). */
  api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable').optional(),
  /** Our model ids, or a map from ours to the upstream's (for comfyui: to a workflow file). */
  models: modelList.default(['*']),
  priority: z.number().int().default(0),
  weight: z.number().positive().default(1),
  /** Upstream jobs at once; 0 = no limit. */
  max_concurrency: int(0).default(0),
  /** Submissions per second; 0 = no limit. */
  submit_per_second: z.number().min(0).default(0),
  /** Status queries per second (DashScope allows 20 per account). */
  query_per_second: z.number().positive().default(20),
  poll_interval: durationMs('3s', 100),
  /** How long an accepted job may take upstream before it fails with generation_timeout. */
  timeout: durationMs('2h', 1000),
  /** One HTTP call to the upstream, submit included; a submit that times out is looked up, not resent. */
  request_timeout: durationMs('30s', 100),
  /** One input upload to the upstream's file store (CONTRACT §8.3): files run to 100 MB. */
  upload_timeout: durationMs('5m', 100),
  /** fal: the public base URL fal's webhooks reach vidgate at (optional; polling works without it). */
  webhook_url: z.url({ protocol: /^https?$/ }).optional(),
  /** fal: where fal publishes its webhook signing keys. */
  webhook_jwks_url: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * How the upstream gets the inputs vidgate probed (CONTRACT §8.3): `upload` them to its file
   * store (default), a `signed_url` under VIDGATE_PUBLIC_URL, or `passthrough` the client's URL.
   */
  input_delivery: z.enum(INPUT_DELIVERIES, { error: `must be one of ${INPUT_DELIVERIES.join(', ')}` }).default('upload'),
  /** fal: the storage API uploads go to. */
  storage_url: z.url({ protocol: /^https?$/ }).optional(),
  /** evolink: its Files API (default: files-api.evolink.ai for the hosted service, else base_url). */
  files_url: z.url({ protocol: /^https?$/ }).optional(),
  /** fal: the operator's fal user id; webhooks signed for any other account are refused. */
  fal_user_id: z.string().min(1).max(200).optional(),
});

export type ChannelConfig = z.infer<typeof channelSchema>;

/** A channel with its model map resolved and its credential read from the environment. */
export type ChannelSettings = Omit<ChannelConfig, 'models'> & {
  engine: EngineName;
  /** Our model id → the upstream's id (or workflow file); '*' serves every model under the same id. */
  models: Map<string, string>;
  api_key?: string;
};

export const channelListSchema = z
  .preprocess(parseJsonText, z.array(channelSchema, { error: 'must be a list of channels (JSON in the environment)' }))
  .superRefine((channels, ctx) => {
    const seen = new Set<string>();
    channels.forEach((channel, i) => {
      const at = (field: string) => [i, field];
      if (seen.has(channel.name)) ctx.addIssue({ code: 'custom', path: at('name'), message: `"${channel.name}" is used by two channels` });
      seen.add(channel.name);
      const entry = ENGINE_CATALOG[channel.engine];
      if (entry.needsBaseUrl && !channel.base_url) ctx.addIssue({ code: 'custom', path: at('base_url'), message: `is required for the ${channel.engine} engine` });
      if (channel.webhook_url && !channel.fal_user_id) {
        ctx.addIssue({ code: 'custom', path: at('fal_user_id'), message: "is required with webhook_url: webhooks are accepted only for this fal account's user id" });
      }
      for (const issue of modelIssues(channel)) ctx.addIssue({ code: 'custom', path: at('models'), message: issue });
    });
  });

/** VIDGATE_CHANNELS holds JSON; text that is not JSON is left for the array check to refuse. */
function parseJsonText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function modelIssues(channel: ChannelConfig): string[] {
  const ours = Array.isArray(channel.models) ? channel.models : Object.keys(channel.models);
  const defaults = ENGINE_CATALOG[channel.engine].models;
  const issues: string[] = [];
  for (const model of ours) {
    if (model === '*') {
      if (!Array.isArray(channel.models)) issues.push('"*" can only stand in a list');
      else if (defaults === null) issues.push(`"*" is not enough for the ${channel.engine} engine: map each model to its workflow file`);
      continue;
    }
    if (!MODEL_IDS.includes(model)) issues.push(`"${model}" is not a model (${MODEL_IDS.join(', ')})`);
    else if (Array.isArray(channel.models) && defaults !== null && defaults !== 'any' && !(model in defaults)) {
      issues.push(`the ${channel.engine} engine has no default upstream id for ${model}; map it, e.g. {"${model}": "<upstream id>"}`);
    } else if (Array.isArray(channel.models) && defaults === null) {
      issues.push(`the ${channel.engine} engine needs a workflow file for ${model}: write models as {"${model}": "path/to/workflow.json"}`);
    }
  }
  return issues;
}

/** Resolves model maps and credentials; `env` supplies api_key_env. Throws a message naming the field. */
export function resolveChannel(channel: ChannelConfig, env: NodeJS.ProcessEnv, resolvePath: (file: string) => string): ChannelSettings {
  const defaults = ENGINE_CATALOG[channel.engine].models;
  const models = new Map<string, string>();
  if (Array.isArray(channel.models)) {
    const ids = channel.models.includes('*') ? (defaults === 'any' || defaults === null ? [...MODEL_IDS] : Object.keys(defaults)) : channel.models;
    for (const id of ids) models.set(id, defaults === 'any' || defaults === null ? id : defaults[id]);
  } else {
    for (const [ours, theirs] of Object.entries(channel.models)) models.set(ours, channel.engine === 'comfyui' ? resolvePath(theirs) : theirs);
  }
  if (channel.engine === 'comfyui') for (const file of models.values()) loadWorkflow(file); // a bad workflow stops start-up, named
  let apiKey: string | undefined;
  if (channel.api_key_env) {
    apiKey = env[channel.api_key_env];
    if (!apiKey) throw new Error(`channel ${channel.name}: api_key_env names ${channel.api_key_env}, which is not set`);
  }
  return { ...channel, models, api_key: apiKey };
}

/** With no channels configured, one local channel serves every model (the embedded default). */
export const DEFAULT_CHANNELS: ChannelConfig[] = [channelSchema.parse({ name: 'local', engine: 'local' })];
