import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller } from '../auth/accounts.ts';
import type { CallerCache } from '../auth/caller-cache.ts';
import { ApiError } from '../contract/errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The caller of an authenticated route (set by the auth hook). */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new ApiError('unauthorized', 'Authorization: missing API key');
  return request.caller;
}

/** Requires `Authorization: Bearer <key>` on every route of the plugin it is added to. */
export function addAuthHook(app: FastifyInstance, callers: CallerCache): void {
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (!header) throw new ApiError('unauthorized', 'Authorization: missing; send "Authorization: Bearer <API key>"');
    const match = BEARER.exec(header);
    if (!match) throw new ApiError('unauthorized', 'Authorization: must be "Bearer <API key>"');
    const caller = await callers.find(match[1]);
    if (!caller) throw new ApiError('unauthorized', 'Authorization: the API key is unknown or disabled');
    request.caller = caller;
  });
}
