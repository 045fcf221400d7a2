import { readFileSync } from 'node:fs';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import YAML from 'yaml';
import { z } from 'zod';
import { API_KEY_PATTERN } from './auth/secrets.ts';
import { parseDurationMs } from './util/duration.ts';
import { priceOverridesSchema } from './billing/price-book.ts';

const ENV_PREFIX = 'VIDGATE_';

const durationMs = (fallback: string, minMs = 0) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => {
      const ms = parseDurationMs(value);
      if (ms === null) ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration such as 15s, 30m or 24h` });
      else if (ms < minMs) ctx.addIssue({ code: 'custom', message: `must be at least ${minMs} ms` });
      return ms ?? 0;
    });

const durationList = (fallback: string) =>
  z
    .union([z.string(), z.array(z.union([z.string(), z.number()]))])
    .default(fallback)
    .transform((value, ctx) => {
      const items = Array.isArray(value) ? value : value.split(',').map((s) => s.trim()).filter(Boolean);
      return items.map((item) => {
        const ms = parseDurationMs(item);
        if (ms === null) ctx.addIssue({ code: 'custom', message: `"${item}" is not a duration such as 1s, 30s or 10m` });
        return ms ?? 0;
      });
    });

const cidrList = z
  .union([z.string(), z.array(z.string())])
  .default([])
  .transform((value, ctx) => {
    const items = (Array.isArray(value) ? value : value.split(',')).map((s) => s.trim()).filter(Boolean);
    for (const item of items) {
      try {
        ipaddr.parseCIDR(item);
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${item}" is not a CIDR such as 127.0.0.2/32` });
      }
    }
    return items;
  });

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const rule = max === Number.MAX_SAFE_INTEGER ? `must be a whole number of at least ${min}` : `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error: rule }).int({ error: rule }).min(min, { error: rule }).max(max, { error: rule });
};

/** Every setting vidgate reads; environment keys are VIDGATE_ + the upper-cased name. */
export const settingsSchema = z.strictObject({
  port: int(0, 65535).default(8080),
  host: z.string().min(1).default('127.0.0.1'),
  data_dir: z.string().min(1).default('./data'),
  public_url: z.url({ protocol: /^https?$/ }).optional(),
  bootstrap_key: z
    .string()
    .regex(API_KEY_PATTERN, 'must be sk-evo- followed by at least 32 letters, digits, _ or -')
    .optional(),
  bootstrap_credits: z.coerce.number().min(0).default(1000),
  bootstrap_webhook_secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, 'must be whsec_ followed by base64').optional(),
  outbound_allow: cidrList,
  database_url: z.string().optional(),
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
  callback_timeout: durationMs('10s', 100),
  callback_retries: durationList('1s,2s,4s'),
  callback_concurrency: int(1, 1024).default(16),
  auth_cache_ttl: durationMs('5s'),
  max_body_bytes: int(1024).default(1_048_576),
  ffmpeg_path: z.string().min(1).default('ffmpeg'),
  ffprobe_path: z.string().min(1).default('ffprobe'),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  prices: priceOverridesSchema.default({}),
});

export type Settings = z.infer<typeof settingsSchema> & { public_url: string; config_file?: string };

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
  return { ...settings, data_dir: path.resolve(settings.data_dir), public_url: publicUrl, config_file: configFile };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
