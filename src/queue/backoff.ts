/** How long a failed job waits before its next attempt. */
export type BackoffPolicy = { baseMs: number; maxMs: number };

/**
 * Capped exponential backoff with "equal jitter": after attempt n the wait is between half and
 * all of min(max, base·2^(n−1)), so retries of many jobs failing together spread out.
 */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
