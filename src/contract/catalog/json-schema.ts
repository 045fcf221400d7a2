import { z } from 'zod';
import { callbackUrl, httpUrl, mediaUrl } from '../fields.ts';

/** The slice of JSON Schema EvoLink's request schemas use (CATALOG.md §1.2), plus the patches the registry applies. */
export type JsonSchema = {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
  enum?: readonly (string | number | boolean)[];
  default?: unknown;
  description?: string;
  example?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  oneOf?: readonly JsonSchema[];
};

/** How a field is built: `media` URLs are fetched and probed (`inline-media` may also be base64); other URIs are passed on unfetched. */
export type FieldRole = 'media' | 'inline-media' | 'callback' | 'link';

export type BuildOptions = {
  /** The role of a URI field, by its dotted path (`model_params.file_url`); media unless said. */
  uriRole(path: string): FieldRole;
};

/** A type error that says "is required" when the field is absent. */
const expected = (message: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : message) });

const list = (values: readonly unknown[]) => values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))).join(', ');

/** A zod schema that checks exactly what `schema` states, each rule with a message users can act on. */
export function zodFromJsonSchema(schema: JsonSchema, options: BuildOptions, path = ''): z.ZodType {
  const built = withDefault(baseSchema(schema, options, path), schema);
  return schema.description ? built.describe(schema.description) : built;
}

function withDefault(built: z.ZodType, schema: JsonSchema): z.ZodType {
  return schema.default === undefined ? built : (built as z.ZodType<unknown>).default(schema.default);
}

function baseSchema(schema: JsonSchema, options: BuildOptions, path: string): z.ZodType {
  if (schema.oneOf) return oneOf(schema.oneOf, options, path);
  switch (schema.type) {
    case 'string':
      return stringSchema(schema, options, path);
    case 'integer':
    case 'number':
      return numberSchema(schema);
    case 'boolean':
      return z.boolean(expected('must be true or false'));
    case 'array':
      return arraySchema(schema, options, path);
    case 'object':
      return objectSchema(schema, options, path);
    default:
      return z.unknown();
  }
}

function oneOf(options: readonly JsonSchema[], build: BuildOptions, path: string): z.ZodType {
  const described = options.map(describeRule).join(', or ');
  const members = options.map((option) => baseSchema(option, build, path));
  return z.union(members as [z.ZodType, z.ZodType, ...z.ZodType[]], expected(`must be ${described}`));
}

/** One member of a oneOf in words: "an integer from 3 to 10", `"auto"`. */
function describeRule(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.length === 1 ? list(schema.enum) : `one of ${list(schema.enum)}`;
  if (schema.type === 'integer' && schema.minimum !== undefined && schema.maximum !== undefined) return `an integer from ${schema.minimum} to ${schema.maximum}`;
  return `a ${schema.type}`;
}

function stringSchema(schema: JsonSchema, options: BuildOptions, path: string): z.ZodType {
  if (schema.enum) {
    const values = schema.enum.map(String) as [string, ...string[]];
    return z.enum(values, expected(values.length === 1 ? `must be ${list(values)}` : `must be one of ${list(values)}`));
  }
  const role = options.uriRole(path);
  if (role === 'inline-media') return inlineMedia; // gemini's images: the file gives them no format, as base64 is not a URI
  if (schema.format === 'uri') {
    if (role === 'callback') return callbackUrl;
    return role === 'media' ? mediaUrl : httpUrl(4096, 'web page');
  }
  let text = z.string(expected('must be a string'));
  if (schema.minLength !== undefined) {
    text = text.min(schema.minLength, { error: schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters` });
  }
  if (schema.maxLength !== undefined) text = text.max(schema.maxLength, { error: `must be at most ${schema.maxLength} characters` });
  if (schema.pattern !== undefined) text = text.regex(new RegExp(schema.pattern, 'u'), { error: `must match ${schema.pattern}` });
  return text;
}

/** An http(s) URL, a `data:image/…;base64,` URL or bare base64 (gemini's images, CATALOG.md §4.9). */
const inlineMedia = z
  .string(expected('must be an image URL, a data:image/…;base64, URL or base64 text'))
  .refine((value) => isInlineImage(value) || mediaUrl.safeParse(value).success, {
    error: 'must be an http:// or https:// URL, a data:image/png|jpeg|webp;base64, URL or base64 text',
  })
  .meta({ 'x-vidgate-media': true });

const DATA_IMAGE = /^data:image\/(png|jpeg|jpg|webp);base64,/i;
const BASE64 = /^[A-Za-z0-9+/\s]+={0,2}$/;

/** The base64 payload of an inline image, or undefined for a URL. */
export function inlinePayload(value: string): string | undefined {
  const data = DATA_IMAGE.exec(value);
  if (data) return value.slice(data[0].length);
  return /^https?:\/\//i.test(value) || !BASE64.test(value) ? undefined : value;
}

function isInlineImage(value: string): boolean {
  const payload = inlinePayload(value);
  return payload !== undefined && payload.replace(/\s+/g, '').length >= 16 && BASE64.test(payload);
}

function numberSchema(schema: JsonSchema): z.ZodType {
  const integer = schema.type === 'integer';
  if (schema.enum) {
    const values = schema.enum as readonly number[];
    const message = `must be one of ${list(values)}`;
    return (integer ? z.int(expected(message)) : z.number(expected(message))).refine((n) => values.includes(n), { error: message });
  }
  const { minimum: min, maximum: max } = schema;
  const range = min !== undefined && max !== undefined ? `from ${min} to ${max}` : min !== undefined ? `at least ${min}` : max !== undefined ? `at most ${max}` : '';
  const noun = integer ? 'an integer' : 'a number';
  const typeMessage = `must be ${noun}${range ? ` ${range}` : ''}`;
  let number = integer ? z.int(expected(typeMessage)) : z.number(expected(typeMessage));
  if (min !== undefined) number = number.min(min, { error: `must be ${range}` });
  if (max !== undefined) number = number.max(max, { error: `must be ${range}` });
  return number;
}

function arraySchema(schema: JsonSchema, options: BuildOptions, path: string): z.ZodType {
  const itemIsUri = schema.items?.type === 'string' && schema.items.format === 'uri';
  const item = schema.items ? zodFromJsonSchema(schema.items, options, `${path}[]`) : z.unknown();
  let array = z.array(item, expected(itemIsUri ? 'must be an array of URL strings' : 'must be an array'));
  const { minItems: min, maxItems: max } = schema;
  const noun = itemIsUri ? 'URL' : 'item';
  const plural = (n: number) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  if (min !== undefined && min === max) array = array.length(min, { error: `must hold exactly ${plural(min)}` });
  else {
    if (min !== undefined && min > 0) array = array.min(min, { error: `must hold at least ${plural(min)}` });
    if (max !== undefined) array = array.max(max, { error: `must hold at most ${plural(max)}` });
  }
  return array;
}

function objectSchema(schema: JsonSchema, options: BuildOptions, path: string): z.ZodType {
  const required = new Set(schema.required ?? []);
  const shape: Record<string, z.ZodType> = {};
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const child = zodFromJsonSchema(property, options, path ? `${path}.${name}` : name);
    shape[name] = required.has(name) || property.default !== undefined ? child : child.optional();
  }
  const error = expected('must be a JSON object');
  // A model that refuses unknown fields (minimax-h3): each one is named, as an issue at its own path.
  if (schema.additionalProperties === false) {
    return z.looseObject(shape, error).superRefine((value, context) => {
      for (const key of Object.keys(value)) {
        if (!(key in shape)) context.addIssue({ code: 'custom', path: [key], message: 'is not a field this model takes (it refuses unknown fields)' });
      }
    }).meta({ additionalProperties: false });
  }
  // Undeclared fields: kept when the schema says values are free (dynamic keys), else dropped (CONTRACT §2: ignored).
  if (typeof schema.additionalProperties === 'object') return z.object(shape, error).catchall(zodFromJsonSchema(schema.additionalProperties, options, `${path}.*`));
  return z.object(shape, error);
}
