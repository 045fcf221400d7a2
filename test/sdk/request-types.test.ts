import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { requestTypesModule } from '../../src/sdk/request-types.ts';
import type { CreateTaskRequest } from '../../src/sdk/index.ts';

// Catalog models type-check too: these must compile, and the wrong ones must not (tsc runs over the tests).
const seedance: CreateTaskRequest = { model: 'seedance-2.0-text-to-video', prompt: 'a kite', duration: 5, quality: '480p', aspect_ratio: 'adaptive' };
const kling: CreateTaskRequest = { model: 'kling-v3-text-to-video', prompt: 'x', sound: 'on', model_params: { multi_shot: false } };
// @ts-expect-error kling's sound is "on" or "off", not a boolean
const badSound: CreateTaskRequest = { model: 'kling-v3-text-to-video', prompt: 'x', sound: true };
// @ts-expect-error seedance 2.0 has no 2k quality
const badQuality: CreateTaskRequest = { model: 'seedance-2.0-text-to-video', prompt: 'x', quality: '2k' };
void [seedance, kling, badSound, badQuality];

describe('the SDK request types', () => {
  it('are generated from the registry as it is now (run scripts/generate-sdk-types.ts after changing a model)', () => {
    const committed = readFileSync(new URL('../../src/sdk/requests.generated.ts', import.meta.url), 'utf8');
    assert.equal(committed, requestTypesModule());
  });
});
