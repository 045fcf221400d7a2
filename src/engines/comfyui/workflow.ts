import { readFileSync } from 'node:fs';

/** An API-format ComfyUI graph: node id → {class_type, inputs}. */
export type Workflow = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

const PLACEHOLDER = /\{\{([a-z_]+)\}\}/g;
const WHOLE = /^\{\{([a-z_]+)\}\}$/;

/** The values a workflow's placeholders may name. */
export const PLACEHOLDERS = ['task_id', 'prompt', 'negative_prompt', 'seed', 'width', 'height', 'length', 'fps', 'duration', 'image_start', 'image_end'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Reads a workflow file and checks it is an API-format graph naming only known placeholders. */
export function loadWorkflow(file: string): Workflow {
  let graph: unknown;
  try {
    graph = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`workflow ${file}: ${(error as Error).message}`);
  }
  if (!graph || typeof graph !== 'object' || Array.isArray(graph) || Object.values(graph).some((n) => typeof (n as { class_type?: unknown })?.class_type !== 'string')) {
    throw new Error(`workflow ${file}: not an API-format graph (export it with "Save (API)")`);
  }
  for (const name of placeholdersIn(graph as Workflow)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) throw new Error(`workflow ${file}: unknown placeholder {{${name}}} (known: ${PLACEHOLDERS.join(', ')})`);
  }
  return graph as Workflow;
}

export function placeholdersIn(graph: Workflow): Set<string> {
  const names = new Set<string>();
  for (const match of JSON.stringify(graph).matchAll(PLACEHOLDER)) names.add(match[1]);
  return names;
}

/**
 * The graph with its placeholders filled: a string that is exactly one placeholder takes the
 * value itself (numbers stay numbers); placeholders inside text are replaced as text.
 */
export function fillWorkflow(graph: Workflow, values: Partial<Record<Placeholder, string | number>>): Workflow {
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const whole = WHOLE.exec(value);
      if (whole) return values[whole[1] as Placeholder] ?? '';
      return value.replace(PLACEHOLDER, (_, name: Placeholder) => String(values[name] ?? ''));
    }
    if (Array.isArray(value)) return value.map(fill);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  return fill(graph) as Workflow;
}
