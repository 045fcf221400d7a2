import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evolinkFileNames, readEvolinkRequest } from '../../src/contract/catalog/evolink-files.ts';
import type { JsonSchema } from '../../src/contract/catalog/json-schema.ts';
import { PriceBook } from '../../src/billing/price-book.ts';
import { ApiError } from '../../src/contract/errors.ts';
import { requestJsonSchema } from '../../src/contract/model-spec.ts';
import { fieldName } from '../../src/http/error-handler.ts';
import { generationRequestSchema, MODEL_IDS, modelSpec, resolveModelId } from '../../src/contract/models/index.ts';

/**
 * Every one of EvoLink's 74 catalog files against the registry (CONTRACT §9.1): each example is
 * accepted; for every enum, range, length and array limit the file states, one request breaking
 * it is refused naming the field; every required field's absence is refused. The expectations
 * come from the files, so an entry that drifts from its file fails here.
 */

type Outcome = { ok: true } | { ok: false; field: string; message: string };

/** What POST /v1/videos/generations decides about a body, short of fetching its media. */
function validate(input: Record<string, unknown>): Outcome {
  const body = structuredClone(input);
  try {
    body.model = resolveModelId(body.model);
    const parsed = generationRequestSchema.safeParse(body);
    if (!parsed.success) return { ok: false, field: fieldName(parsed.error.issues[0].path), message: parsed.error.issues[0].message };
    modelSpec(String(body.model)).normalize(parsed.data as never);
    return { ok: true };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { ok: false, field: error.message.slice(0, error.message.indexOf(':')), message: error.message };
  }
}

// Examples that leave out a field their own schema requires (CATALOG.md notes them): the schema holds.
const EXAMPLES_WITHOUT_REQUIRED: Record<string, string> = {
  'MiniMax-Hailuo-2.3-Fast': 'image_urls',
  'wan2.5-image-to-video': 'image_urls',
  'wan2.6-image-to-video': 'image_urls',
  'wan2.6-image-to-video-flash': 'image_urls',
};

const URL_OF = (i: number) => `https://media.example/input-${i}.png`;

/** A base request the model accepts: the file's first example, completed where the example is known to be incomplete. */
function baseRequest(file: string): Record<string, unknown> {
  const body = structuredClone(readEvolinkRequest(file).examples[0].body);
  if (EXAMPLES_WITHOUT_REQUIRED[file]) body.image_urls = [URL_OF(0)];
  return body;
}

/** Values breaking one stated rule of a field, each with what it breaks. */
function violations(schema: JsonSchema): { value: unknown; rule: string }[] {
  const out: { value: unknown; rule: string }[] = [];
  const members = schema.oneOf ?? [schema];
  if (schema.enum) out.push({ value: schema.type === 'string' ? 'not-a-documented-value' : Math.max(...(schema.enum as number[])) + 1, rule: 'enum' });
  for (const member of members) {
    if (member.type === 'integer' || member.type === 'number') {
      if (member.maximum !== undefined) out.push({ value: member.maximum + 1, rule: 'maximum' });
      if (member.minimum !== undefined && !(schema.oneOf && member.minimum - 1 === -1)) out.push({ value: member.minimum - 1, rule: 'minimum' });
    }
  }
  if (schema.type === 'string' && schema.maxLength !== undefined) out.push({ value: 'x'.repeat(schema.maxLength + 1), rule: 'maxLength' });
  if (schema.type === 'string' && (schema.minLength ?? 0) > 0) out.push({ value: '', rule: 'minLength' });
  if (schema.type === 'array') {
    const item = (i: number) => (schema.items?.type === 'string' ? URL_OF(i) : { element_id: `e${i}`, index: i, prompt: 'p', duration: '1' });
    if (schema.maxItems !== undefined) out.push({ value: Array.from({ length: schema.maxItems + 1 }, (_, i) => item(i)), rule: 'maxItems' });
    if ((schema.minItems ?? 0) > 0) out.push({ value: [], rule: 'minItems' });
  }
  return out;
}

/** The fields a file's schema constrains: top level, and one level inside model_params. */
function constrainedFields(schema: JsonSchema): [string, JsonSchema][] {
  const top = Object.entries(schema.properties ?? {}).filter(([name]) => name !== 'model');
  const nested = Object.entries(schema.properties?.model_params?.properties ?? {}).map(([name, s]) => [`model_params.${name}`, s] as [string, JsonSchema]);
  return [...top, ...nested];
}

function withField(base: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const body = structuredClone(base);
  if (path.startsWith('model_params.')) body.model_params = { ...(body.model_params as object), [path.slice('model_params.'.length)]: value };
  else body[path] = value;
  return body;
}

const files = evolinkFileNames();

/** A body the model accepts: its file's example, or for a seed model a minimal one. */
function validBody(id: string): Record<string, unknown> {
  if (files.includes(id)) return generationRequestSchema.parse(baseRequest(id)) as Record<string, unknown>;
  return generationRequestSchema.parse({ model: id, prompt: 'x', video_urls: ['https://media.example/c.mp4'] }) as Record<string, unknown>;
}

describe('the catalog registry against EvoLink\'s files', () => {
  it('holds all 74 files and serves 74 ids', () => {
    assert.equal(files.length, 74);
    assert.equal(MODEL_IDS.length, 74);
    for (const file of files.filter((f) => !f.endsWith('-overview'))) assert.ok(MODEL_IDS.includes(file), `${file} is not in the registry`);
  });

  for (const file of files) {
    describe(file, () => {
      const doc = readEvolinkRequest(file);

      it('accepts each of its examples', () => {
        for (const example of doc.examples) {
          const outcome = validate(example.body);
          const missing = EXAMPLES_WITHOUT_REQUIRED[file];
          if (missing) assert.deepEqual([outcome.ok, !outcome.ok && outcome.field], [false, missing], `${example.name}: its schema requires ${missing}`);
          else assert.ok(outcome.ok, `${example.name}: ${!outcome.ok && outcome.message}`);
        }
      });

      if (file.endsWith('-overview')) return;
      const base = baseRequest(file);

      it('refuses each broken enum, range, length and array limit, naming the field', () => {
        assert.ok(validate(base).ok, `the base request is refused: ${JSON.stringify(validate(base))}`);
        let checked = 0;
        for (const [field, schema] of constrainedFields(doc.schema)) {
          for (const { value, rule } of violations(schema)) {
            const outcome = validate(withField(base, field, value));
            assert.equal(outcome.ok, false, `${field} ${rule}: ${JSON.stringify(value).slice(0, 60)} was accepted`);
            if (!outcome.ok) assert.ok(outcome.field === field || outcome.field.startsWith(`${field}[`) || outcome.field.startsWith(`${field}.`), `${field} ${rule}: refused naming ${outcome.field} (${outcome.message})`);
            checked++;
          }
        }
        assert.ok(checked > 0 || constrainedFields(doc.schema).every(([, s]) => violations(s).length === 0));
      });

      it('refuses a request without each required field', () => {
        for (const field of (doc.schema.required ?? []).filter((name) => name !== 'model')) {
          const body = structuredClone(base);
          delete body[field];
          const outcome = validate(body);
          assert.equal(outcome.ok, false, `accepted without ${field}`);
          if (!outcome.ok) assert.ok(outcome.field.startsWith(field), `without ${field}: refused naming ${outcome.field}`);
        }
      });
    });
  }

  it('prices every quality each model takes, under the rule its file gives', () => {
    const book = new PriceBook();
    for (const id of MODEL_IDS) {
      const spec = modelSpec(id);
      const schema = requestJsonSchema(spec) as { $defs?: Record<string, { properties?: Record<string, { enum?: string[] }> }>; $ref?: string };
      const properties = schema.$ref ? schema.$defs![schema.$ref.split('/').at(-1)!].properties : (schema as { properties?: Record<string, { enum?: string[] }> }).properties;
      const qualities = properties?.quality?.enum ?? [spec.normalize(validBody(id) as never).quality];
      for (const quality of qualities) assert.ok(book.quote(id, quality, 5).micro > 0, `${id} at ${quality}`);
    }
  });

  it('refuses a body without a model, naming the field', () => {
    const outcome = validate({ prompt: 'x' });
    assert.deepEqual(outcome.ok ? null : outcome.field, 'model');
  });
});
