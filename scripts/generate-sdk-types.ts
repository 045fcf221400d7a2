// Writes src/sdk/requests.generated.ts, the SDK's request types, from the model registry.
import { writeFileSync } from 'node:fs';
import { requestTypesModule } from '../src/sdk/request-types.ts';

writeFileSync(new URL('../src/sdk/requests.generated.ts', import.meta.url), requestTypesModule());
