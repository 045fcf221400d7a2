import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { callerOf } from '../http/auth.ts';
import { McpTools, type ToolsDeps } from './tools.ts';

export type McpDeps = Omit<ToolsDeps, 'api'> & { version: string };

const INSTRUCTIONS =
  'vidgate makes videos. list_models tells which models this key may use and their fields; generate_video starts a task (estimate_cost first if the price matters), ' +
  'wait_for_task follows it to the end and answers the video URLs. Local files go through upload_file; its file_id works as a media field.';

/**
 * The MCP server at /mcp (CONTRACT §11.2): the Streamable HTTP transport of the official SDK,
 * stateless — each request gets its own server for its caller, so any API process answers any
 * request, and nothing outlives the request. The auth hook of the enclosing scope has found the caller.
 */
export const mcpRoutes: FastifyPluginAsync<McpDeps> = async (app, deps) => {
  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const tools = new McpTools({ ...deps, api: app }, callerOf(request), request.headers.authorization!);
    const closed = new AbortController(); // the client's connection ended
    const server = new Server({ name: 'vidgate', version: deps.version }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: tools.list() }));
    server.setRequestHandler(CallToolRequestSchema, (call, extra) => {
      const token = call.params._meta?.progressToken;
      const progress = token === undefined ? undefined : (value: number, message: string) =>
        extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: value, total: 100, message } });
      // The client leaving (its connection closing) ends a wait; the task itself goes on.
      const left = AbortSignal.any([extra.signal, closed.signal]);
      return tools.call(call.params.name, (call.params.arguments ?? {}) as Record<string, unknown>, { signal: left, progress });
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    reply.hijack();
    reply.raw.on('close', () => {
      closed.abort();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request.raw, reply.raw, request.body);
  };
  for (const method of ['POST', 'GET', 'DELETE'] as const) app.route({ method, url: '/mcp', schema: { hide: true }, handler: handle });
};
