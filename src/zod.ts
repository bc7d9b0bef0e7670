// zod, loaded through require(): what every module of the pipeline imports instead of 'zod' for its values.
//
// zod's ESM build is 95 files (64 of them locales its classic entry re-exports), and under tsx each ESM file is a
// round trip to the loader's thread: a stage loaded 168 ES modules before the first request, 95 of them zod's, and
// 73 after this change. Its CommonJS build loads in-thread. The namespace below gives back the type-level names the
// modules use (`z.infer<typeof S>` and the like); a type-only `import type { z } from 'zod'` costs nothing at run time
// and may stay.
import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';

export const z: typeof Zod = (createRequire(import.meta.url)('zod') as { z: typeof Zod }).z;

export declare namespace z {
  type infer<T> = Zod.infer<T>;
  type input<T> = Zod.input<T>;
  type output<T> = Zod.output<T>;
  type ZodType<O = unknown, I = unknown> = Zod.ZodType<O, I>;
  type ZodBoolean = Zod.ZodBoolean;
}
