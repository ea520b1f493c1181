import { createRequire } from 'node:module';

/**
 * `require` for the CommonJS packages on the start-up path of a CLI run (fastify,
 * better-sqlite3, kysely's CommonJS build) and of an engine worker (tfjs, sharp). Imported as ESM,
 * Node 20 runs its module-format detection and export scan over each of their files (tfjs's
 * bundles are megabytes): tfjs-core 65 vs 16 ms, tfjs-converter 70 vs 27 ms, sharp 53 vs 25 ms,
 * fastify 43 vs 35 ms. require gives the same module objects wherever it is
 * called, so tfjs stays one instance with the packages that require it themselves (face-api,
 * nsfwjs). Types still come from `import type`.
 */
export const requireCjs = createRequire(import.meta.url);
