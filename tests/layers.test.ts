// The layering docs/ARCHITECTURE.md promises, checked on the source: imports point down, no module over 400 lines,
// the stages and the providers each listed in one module.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PIPELINE } from '../src/pipeline.js';
import { PROVIDER_NAMES } from '../src/llm/providers.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const SRC = sources('src');
const text = (file: string) => readFileSync(join(root, file), 'utf8');
/** The files a module imports, resolved against the repo root (`src/io/jsonl.ts`). */
function imports(file: string): string[] {
  const dir = file.slice(0, file.lastIndexOf('/'));
  return [...text(file).matchAll(/^\s*(?:import|export)[^'"]*from '(\.[^']+)'/gm)].map((m) =>
    relative(root, join(root, dir, m[1]!)).replace(/\.js$/, '.ts'),
  );
}

describe('the layers', () => {
  it.each(['src/llm', 'src/batch', 'src/io'])('nothing under %s imports the stage layer', (layer) => {
    const upward = SRC.filter((f) => f.startsWith(`${layer}/`)).flatMap((f) =>
      imports(f)
        .filter((i) => i.startsWith('src/stage/'))
        .map((i) => `${f} → ${i}`),
    );
    expect(upward).toEqual([]);
  });

  it('no module under src/ imports a stage script', () => {
    const upward = SRC.flatMap((f) => imports(f).filter((i) => /^\d_[a-z_]+\.ts$/.test(i) || i.startsWith('scripts/')));
    expect(upward).toEqual([]);
  });

  it('no module under src/ is over 400 lines', () => {
    const long = SRC.map((f) => [f, text(f).split('\n').length - 1] as const).filter(([, n]) => n > 400);
    expect(long).toEqual([]);
  });

  it("the stages' script names are written in src/pipeline.ts alone", () => {
    const elsewhere = SRC.filter((f) => f !== 'src/pipeline.ts').filter((f) =>
      PIPELINE.some((s) => text(f).includes(`'${s.script}'`)),
    );
    expect(elsewhere).toEqual([]);
  });

  it("the providers' names are listed in src/llm/providers.ts alone", () => {
    // A list of every provider, in code: the names side by side in one array or union.
    const pattern = new RegExp(PROVIDER_NAMES.map((p) => `'${p}'`).join('\\s*[,|]\\s*'));
    const elsewhere = SRC.filter((f) => f !== 'src/llm/providers.ts' && pattern.test(text(f)));
    expect(elsewhere).toEqual([]);
  });
});
