import { invalidField } from '../contract/errors.ts';
import { OutboundRefusedError, type OutboundGuard } from '../net/outbound-guard.ts';

/**
 * Checks a callback URL as create time must (CONTRACT §2.1): https only, and a host whose
 * every address the guard allows; plain http only to hosts on the operator's allow-list.
 */
export async function checkCallbackUrl(guard: OutboundGuard, url: string): Promise<void> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && !(await guard.isAllowListed(parsed.hostname).catch(() => false))) {
    throw invalidField('callback_url', 'must be an https:// URL');
  }
  try {
    await guard.resolveChecked(parsed.hostname);
  } catch (error) {
    if (error instanceof OutboundRefusedError) throw invalidField('callback_url', error.message);
    throw error;
  }
}
