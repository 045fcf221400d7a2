import { readFileSync } from 'node:fs';
import path from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import YAML from 'yaml';
import { z } from 'zod';
import { API_KEY_PATTERN, ADMIN_KEY_PATTERN } from './auth/secrets.ts';
import { byteSize, cidrList, durationList, durationMs, int } from './util/setting-fields.ts';
import { priceOverridesSchema } from './billing/price-book.ts';
import { type ChannelSettings, channelListSchema, DEFAULT_CHANNELS, resolveChannel } from './channels/config.ts';

const ENV_PREFIX = 'VIDGATE_';

/** Every setting vidgate reads; environment keys are VIDGATE_ + the upper-cased name. */
export const settingsSchema = z.strictObject({
  port: int(0, 65535).default(8080),
  host: z.string().min(1).default('127.0.0.1'),
  data_dir: z.string().min(1).default('./data'),
  /** Fetched media and results; every node of a scaled-out install points it at one shared folder. */
  storage_dir: z.string().min(1).optional(),
  public_url: z.url({ protocol: /^https?$/ }).optional(),
  /** Where inputs, results and uploads live (CONTRACT §12): file:///path (default: the storage dir) or s3://bucket[/prefix]. */
  storage_url: z.string().regex(/^(file:\/\/\/.*|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^?#]*)?)$/, 'must be file:///path or s3://bucket[/prefix] (a bucket name of 3–63 lower-case letters, digits, dots or hyphens)').optional(),
  /** An S3-compatible service's API origin (MinIO, R2, OSS…); none = AWS. */
  s3_endpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) origin such as http://127.0.0.1:9000' }).optional(),
  s3_region: z.string().min(1).default('us-east-1'),
  /** Path-style addressing (bucket in the path); default: on when VIDGATE_S3_ENDPOINT is set. */
  s3_force_path_style: z.union([z.boolean(), z.stringbool({ error: 'must be true or false' })]).optional(),
  /** How clients get results and uploads: proxy (through vidgate), redirect (302 to a fresh presigned URL), presigned (the URLs themselves). */
  result_urls: z.enum(['proxy', 'redirect', 'presigned'], { error: 'must be proxy, redirect or presigned' }).default('proxy'),
  bootstrap_key: z
    .string()
    .regex(API_KEY_PATTERN, 'must be sk-evo- followed by at least 32 letters, digits, _ or -')
    .optional(),
  bootstrap_credits: z.coerce.number().min(0).default(1000),
  /** The admin key to make sure of (user `admin`, CONTRACT §10.1). */
  bootstrap_admin_key: z.string().regex(ADMIN_KEY_PATTERN, 'must be sk-adm- followed by at least 32 letters or digits').optional(),
  bootstrap_webhook_secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, 'must be whsec_ followed by base64').optional(),
  outbound_allow: cidrList,
  /** One DNS lookup of the outbound guard, both address families. */
  dns_timeout: durationMs('5s', 100),
  /** DNS lookups in flight at once per process. */
  dns_concurrency: int(1, 1024).default(32),
  database_url: z.string().regex(/^postgres(ql)?:\/\/./, 'must be a postgres:// URL (vidgate keeps its store in PostgreSQL, or without this setting in SQLite under VIDGATE_DATA_DIR)').optional(),
  worker_concurrency: int(1, 256).default(2),
  worker_poll: durationMs('1s', 10),
  job_lease: durationMs('30s', 300),
  job_attempts: int(1, 100).default(3),
  retry_base: durationMs('2s'),
  retry_max: durationMs('5m'),
  shutdown_grace: durationMs('30s'),
  result_ttl: durationMs('24h'),
  sweep_interval: durationMs('1m', 100),
  rate_limit_rpm: int(0).default(0),
  max_unfinished_tasks: int(0).default(0),
  media_deadline: durationMs('15s'),
  /** Media fetched and probed at once per process (CONTRACT §8.2). */
  ingest_concurrency: int(1, 256).default(4),
  /** Address space each ffmpeg/ffprobe may use; 0 = no cap (ffprobe itself needs about 384MiB). */
  media_memory: byteSize('1GiB', 0),
  /** CPU priority (nice) of each ffmpeg/ffprobe: above 0 they yield the CPU to the server's own work. */
  media_niceness: int(0, 19).default(10),
  file_ttl: durationMs('72h'),
  file_max_bytes: byteSize('100MiB'),
  /** The largest result an upstream may hand back (CONTRACT §8.10). */
  result_max_bytes: byteSize('2GiB'),
  /** How long fetching a finished result home may take, start to end. */
  result_download_timeout: durationMs('10m', 1000),
  /** A request's headers must all arrive within this (CONTRACT §8.5). */
  headers_timeout: durationMs('10s', 100),
  /** A connection with no byte in either direction for this long is cut. */
  idle_timeout: durationMs('30s', 100),
  file_quota: int(0).default(2000),
  /** Bytes of live uploads a user may keep unless it has its own (CONTRACT §8.4). */
  file_quota_bytes: byteSize('10GiB', 0),
  /** The largest file a base64 upload may carry, decoded; bigger ones go through multipart. */
  file_base64_max_bytes: byteSize('20MiB'),
  callback_timeout: durationMs('10s', 100),
  callback_retries: durationList('1s,2s,4s'),
  callback_concurrency: int(1, 1024).default(16),
  auth_cache_ttl: durationMs('5s'),
  max_body_bytes: int(1024).default(1_048_576),
  metrics_token: z.string().min(16, 'must be at least 16 characters').optional(),
  ffmpeg_path: z.string().min(1).default('ffmpeg'),
  ffprobe_path: z.string().min(1).default('ffprobe'),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  prices: priceOverridesSchema.default({}),
  /** Where tasks run (CONTRACT §7); none = one local channel for every model. */
  channels: channelListSchema.optional(),
});

/** Where inputs, results and uploads live (CONTRACT §12). */
export type StorageSettings =
  | { kind: 'file'; dir: string }
  | { kind: 's3'; bucket: string; prefix: string; endpoint?: string; region: string; forcePathStyle: boolean; scratchDir: string };

export type Settings = Omit<z.infer<typeof settingsSchema>, 'channels' | 'storage_dir'> & {
  storage: StorageSettings;
  public_url: string;
  storage_dir: string;
  config_file?: string;
  channels: ChannelSettings[];
};

/** A setting that is missing, malformed or out of range; the message names it. */
export class SettingsError extends Error {}

type Source = { values: Record<string, unknown>; label: (key: string) => string };

function envSource(env: NodeJS.ProcessEnv): Source {
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(settingsSchema.shape)) {
    const value = env[ENV_PREFIX + key.toUpperCase()];
    if (value !== undefined && value !== '') values[key] = value;
  }
  return { values, label: (key) => ENV_PREFIX + key.toUpperCase() };
}

function fileSource(file: string): Source {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SettingsError(`VIDGATE_CONFIG: cannot read ${file}: ${(err as Error).message}`);
  }
  let values: unknown;
  try {
    values = /\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new SettingsError(`VIDGATE_CONFIG: ${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (values === null || values === undefined) values = {};
  if (typeof values !== 'object' || Array.isArray(values)) throw new SettingsError(`VIDGATE_CONFIG: ${file} must hold an object`);
  return { values: values as Record<string, unknown>, label: (key) => `${key} in ${file}` };
}

/** VIDGATE_ variables that are not settings: read by the CLI's client commands, the scripts and the tests. */
const OTHER_VARIABLES = ['VIDGATE_CONFIG', 'VIDGATE_API_KEY', 'VIDGATE_BASE_URL', 'VIDGATE_ROOT', 'VIDGATE_APT_UPDATED', 'VIDGATE_TEST_DATABASE_URL', 'VIDGATE_CHROMIUM', 'VIDGATE_SDK_OUT'];

/** A warning for each VIDGATE_ variable vidgate does not know (a typo, most likely), naming the closest real one. */
export function unknownVariableWarnings(env: NodeJS.ProcessEnv = process.env): string[] {
  const known = [...Object.keys(settingsSchema.shape).map((key) => ENV_PREFIX + key.toUpperCase()), ...OTHER_VARIABLES];
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !known.includes(name))
    .map((name) => {
      const guess = closest(name, known);
      // A guess more than a third of the name away is no help.
      const hint = distance(name, guess) <= Math.ceil(name.length / 3) ? `did you mean ${guess}?` : 'the README lists every setting';
      return `${name} is not a vidgate setting and is ignored; ${hint}`;
    });
}

/** Reads settings once: the config file (VIDGATE_CONFIG), then the environment, which wins. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const configFile = env.VIDGATE_CONFIG || undefined;
  const file = configFile ? fileSource(configFile) : { values: {}, label: (key: string) => key };
  const fromEnv = envSource(env);
  const merged = { ...file.values, ...fromEnv.values };
  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0] ?? '');
    const where = key in fromEnv.values ? fromEnv.label(key) : file.label(key);
    const rest = issue.path.slice(1).join('.');
    const message = issue.code === 'unrecognized_keys' ? `unknown setting(s) ${issue.keys.join(', ')}` : issue.message;
    throw new SettingsError(`invalid setting ${key ? where : configFile ?? 'settings'}${rest ? ` (${rest})` : ''}: ${message}`);
  }
  const settings = parsed.data;
  const publicUrl = (settings.public_url ?? `http://${hostForUrl(settings.host)}:${settings.port}`).replace(/\/+$/, '');
  const baseDir = configFile ? path.dirname(path.resolve(configFile)) : process.cwd();
  let channels: ChannelSettings[];
  try {
    channels = (settings.channels ?? DEFAULT_CHANNELS).map((channel) => resolveChannel(channel, env, (file) => path.resolve(baseDir, file)));
  } catch (error) {
    throw new SettingsError(`invalid setting channels: ${(error as Error).message}`);
  }
  const dataDir = path.resolve(settings.data_dir);
  const storageDir = settings.storage_dir ? path.resolve(settings.storage_dir) : dataDir;
  return { ...settings, data_dir: dataDir, storage_dir: storageDir, public_url: publicUrl, config_file: configFile, channels, storage: storageOf(settings, storageDir, dataDir) };
}

/** Where objects live, from VIDGATE_STORAGE_URL and VIDGATE_S3_*; the URL modes that need presigning need S3. */
function storageOf(settings: z.infer<typeof settingsSchema>, storageDir: string, dataDir: string): StorageSettings {
  const url = settings.storage_url;
  if (settings.result_urls !== 'proxy' && !url?.startsWith('s3://')) {
    throw new SettingsError(`invalid setting VIDGATE_RESULT_URLS: ${settings.result_urls} needs storage that presigns URLs; set VIDGATE_STORAGE_URL=s3://bucket, or use proxy`);
  }
  if (settings.result_urls === 'presigned') {
    for (const [name, ms] of [['VIDGATE_RESULT_TTL', settings.result_ttl], ['VIDGATE_FILE_TTL', settings.file_ttl]] as const) {
      if (ms > 7 * 86_400_000) throw new SettingsError(`invalid setting ${name}: presigned URLs live at most 7 days; keep it at 7d or less with VIDGATE_RESULT_URLS=presigned, or use redirect`);
    }
  }
  if (!url?.startsWith('s3://')) {
    const dir = url ? path.resolve(decodeURIComponent(url.slice('file://'.length))) : storageDir;
    if (url && settings.storage_dir && dir !== storageDir) throw new SettingsError('invalid setting VIDGATE_STORAGE_URL: names another folder than VIDGATE_STORAGE_DIR; set one of them');
    return { kind: 'file', dir };
  }
  const [bucket, ...rest] = url.slice('s3://'.length).split('/');
  const prefix = rest.join('/').replace(/^\/+|\/+$/g, '');
  return {
    kind: 's3', bucket, prefix: prefix ? `${prefix}/` : '', endpoint: settings.s3_endpoint?.replace(/\/+$/, ''), region: settings.s3_region,
    forcePathStyle: settings.s3_force_path_style ?? settings.s3_endpoint !== undefined, scratchDir: path.join(dataDir, 'scratch'),
  };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
