import { readdirSync, readFileSync } from 'node:fs';
import type { JsonSchema } from './json-schema.ts';

/** EvoLink's OpenAPI files for its video catalog, vendored byte for byte (CATALOG.md: 70 models + 4 overview pages). */
export const EVOLINK_FILES_DIR = new URL('./openapi/', import.meta.url);

/** One file's create request: its JSON Schema and the example bodies it documents. */
export type EvolinkRequestDoc = {
  file: string;
  schema: JsonSchema;
  examples: { name: string; body: Record<string, unknown> }[];
};

type OpenApiFile = {
  paths: Record<string, { post?: { requestBody: { content: { 'application/json': RequestContent } } } }>;
  components?: { schemas?: Record<string, JsonSchema> };
};
type RequestContent = { schema: JsonSchema & { $ref?: string }; examples?: Record<string, { value: Record<string, unknown> }> };

/** The names of the vendored files, without `.json`. */
export function evolinkFileNames(): string[] {
  return readdirSync(EVOLINK_FILES_DIR).filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -5)).sort();
}

/** The create request a file documents (its `$ref` resolved). */
export function readEvolinkRequest(file: string): EvolinkRequestDoc {
  const doc = JSON.parse(readFileSync(new URL(`${file}.json`, EVOLINK_FILES_DIR), 'utf8')) as OpenApiFile;
  const content = doc.paths['/v1/videos/generations']?.post?.requestBody.content['application/json'];
  if (!content) throw new Error(`${file}.json documents no POST /v1/videos/generations`);
  const ref = content.schema.$ref;
  const schema = ref ? doc.components?.schemas?.[ref.split('/').at(-1)!] : content.schema;
  if (!schema) throw new Error(`${file}.json: unresolved ${ref}`);
  const examples = Object.entries(content.examples ?? {}).map(([name, example]) => ({ name, body: example.value }));
  return { file, schema, examples };
}
