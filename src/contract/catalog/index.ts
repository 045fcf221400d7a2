import { ALIBABA_ENTRIES } from './entries/alibaba.ts';
import { KLING_ENTRIES } from './entries/kling.ts';
import { OTHER_ENTRIES } from './entries/others.ts';
import { SEEDANCE_ENTRIES } from './entries/seedance.ts';
import type { CatalogEntry } from './entry.ts';

/** Every catalog model beyond the four seed models (CATALOG.md §2), in the catalog's family order. */
export const CATALOG_ENTRIES: readonly CatalogEntry[] = Object.freeze([...ALIBABA_ENTRIES, ...SEEDANCE_ENTRIES, ...KLING_ENTRIES, ...OTHER_ENTRIES]);

/** Old client names EvoLink's docs map to a newer id, which its MCP client still sends (CATALOG.md §1.3, §3). */
export const MODEL_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  'grok-imagine-text-to-video': 'grok-imagine-text-to-video-beta',
  'grok-imagine-image-to-video': 'grok-imagine-image-to-video-beta',
  'veo3.1-fast': 'veo3.1-fast-beta',
  'veo3.1-pro': 'veo3.1-pro-beta',
});
