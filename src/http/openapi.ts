import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { API_ERRORS } from '../contract/errors.ts';

const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(API_ERRORS) as [string, ...string[]]),
      message: z.string().describe('Names the offending field first'),
      type: z.string(),
      param: z.string().optional(),
    }),
  })
  .meta({ id: 'Error' });

/** The error responses every /v1 route may give, for the OpenAPI document. */
export const errorResponses = { 400: errorBodySchema, 401: errorBodySchema, 404: errorBodySchema, 429: errorBodySchema, 500: errorBodySchema };

/** Create may also answer 402 (credits), 403 (model), 409 (Idempotency-Key), 413 (body size) and 503 (no channel for the model). */
export const createErrorResponses = { ...errorResponses, 402: errorBodySchema, 403: errorBodySchema, 409: errorBodySchema, 413: errorBodySchema, 503: errorBodySchema };

/** OpenAPI 3.1 at /openapi.json and a docs page at /docs, both generated from the route schemas. */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'vidgate', version, license: { name: 'MIT', identifier: 'MIT' },
        description: 'Self-hosted, EvoLink-compatible video generation API. Operators: /healthz, /readyz and /metrics are in the README.',
      },
      // The vidgate that serves this document; every operation needs a key unless it says otherwise.
      servers: [{ url: '/', description: 'this vidgate' }],
      security: [{ bearerAuth: [] }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => withEventStreams(withEnumsForConsts(withoutUnusedSchemas(jsonSchemaTransformObject(input) as OpenApiDocument))) as ReturnType<typeof jsonSchemaTransformObject>,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

type OpenApiDocument = { components?: { schemas?: Record<string, unknown> } } & Record<string, unknown>;

/**
 * Drops the component schemas no operation reaches. The zod provider registers each named schema
 * twice (its input and output forms, X and XInput), and a request needs only one, a response the other.
 */
function withoutUnusedSchemas(document: OpenApiDocument): OpenApiDocument {
  const schemas = document.components?.schemas;
  if (!schemas) return document;
  const used = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      const name = key === '$ref' && typeof child === 'string' ? child.match(/^#\/components\/schemas\/(.+)$/)?.[1] : undefined;
      if (name && !used.has(name)) {
        used.add(name);
        visit(schemas[name]);
      } else visit(child);
    }
  };
  visit({ ...document, components: { ...document.components, schemas: {} } });
  // A request's schema keeps its own name (Wan27TextToVideoRequest, not …RequestInput) when the other form went unused.
  const renamed = new Map([...used].filter((name) => name.endsWith('Input') && !used.has(name.slice(0, -5))).map((name) => [name, name.slice(0, -5)]));
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)).map(([name, schema]) => [renamed.get(name) ?? name, schema]));
  const text = JSON.stringify({ ...document, components: { ...document.components, schemas: kept } });
  return JSON.parse(text.replace(/"#\/components\/schemas\/([^"]+)"/g, (ref, name: string) => (renamed.has(name) ? `"#/components/schemas/${renamed.get(name)}"` : ref)));
}

/** `{"const": x}` written as `{"enum": [x]}`: the same schema, which client generators made for OpenAPI 3.0 read as a literal type. */
function withEnumsForConsts(document: OpenApiDocument): OpenApiDocument {
  return JSON.parse(JSON.stringify(document), (_key, value: unknown) => {
    if (!value || typeof value !== 'object' || Array.isArray(value) || !('const' in value)) return value;
    const { const: only, ...rest } = value as Record<string, unknown>;
    return { ...rest, enum: [only] };
  });
}

/** A response whose schema says `contentMediaType: text/event-stream` (the task events) is listed under that media type, not JSON. */
function withEventStreams(document: OpenApiDocument): OpenApiDocument {
  return JSON.parse(JSON.stringify(document), (key, value: unknown) => {
    if (key !== 'content' || !value || typeof value !== 'object') return value;
    const json = (value as Record<string, { schema?: { contentMediaType?: string } }>)['application/json'];
    const mediaType = json?.schema?.contentMediaType;
    return mediaType ? { [mediaType]: json } : value;
  });
}
