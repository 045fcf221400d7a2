// Node keeps its TypeScript stripping and compiled code between runs (in the OS temp dir, or
// NODE_COMPILE_CACHE): a start takes half the time. It must be on before the CLI's modules load.
import { enableCompileCache } from 'node:module';

enableCompileCache();
await (await import('./program.ts')).buildProgram().parseAsync();
