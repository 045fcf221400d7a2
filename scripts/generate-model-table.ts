// Writes docs/models.md, the model table, from the registry and the default price book.
import { writeFileSync } from 'node:fs';
import { modelTableMarkdown } from '../src/contract/catalog/model-table.ts';

writeFileSync(new URL('../docs/models.md', import.meta.url), modelTableMarkdown());
