import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { parseDurationMs } from './duration.ts';
import { parseBytes } from './bytes.ts';

/** Setting value types shared by the settings and the channel config; each message says what is expected. */

export const durationMs = (fallback: string, minMs = 0) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => {
      const ms = parseDurationMs(value);
      if (ms === null) ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration such as 15s, 30m or 24h` });
      else if (ms < minMs) ctx.addIssue({ code: 'custom', message: `must be at least ${minMs} ms` });
      return ms ?? 0;
    });

export const durationList = (fallback: string) =>
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

export const cidrList = z
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

export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const rule = max === Number.MAX_SAFE_INTEGER ? `must be a whole number of at least ${min}` : `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error: rule }).int({ error: rule }).min(min, { error: rule }).max(max, { error: rule });
};


/** A size in bytes: a whole number, or text such as 512KiB, 20MiB, 2GiB (KB/MB/GB are the same binary units). */
export const byteSize = (fallback: string, minBytes = 1) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => {
      const bytes = parseBytes(value);
      if (bytes === null) ctx.addIssue({ code: 'custom', message: `"${value}" is not a size such as 20MiB, 2GiB or 1048576` });
      else if (bytes < minBytes) ctx.addIssue({ code: 'custom', message: `must be at least ${minBytes} bytes` });
      return bytes ?? 0;
    });
