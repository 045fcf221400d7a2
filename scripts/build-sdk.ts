// Writes dist/sdk.js, what `import 'vidgate/sdk'` loads from an installed package (Node strips no types under node_modules).
import { mkdirSync, writeFileSync } from 'node:fs';
import { sdkJavaScript } from '../src/sdk/javascript.ts';

import path from 'node:path';

const out = process.env.VIDGATE_SDK_OUT ?? new URL('../dist', import.meta.url).pathname; // tests build into a package of their own
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'sdk.js'), sdkJavaScript());
