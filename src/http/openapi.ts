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
      info: { title: 'vidgate', version, description: 'Self-hosted, EvoLink-compatible video generation API.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
