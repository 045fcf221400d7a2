import { readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';

const SOURCE = new URL('./index.ts', import.meta.url);

/** The SDK as plain JavaScript (its types stripped), for browsers and for packages that import `vidgate/sdk`. */
export function sdkJavaScript(): string {
  const warn = process.emitWarning;
  process.emitWarning = () => {}; // Node flags stripTypeScriptTypes as experimental on every first use; the output is plain JS either way
  try {
    return stripTypeScriptTypes(readFileSync(SOURCE, 'utf8'));
  } finally {
    process.emitWarning = warn;
  }
}
