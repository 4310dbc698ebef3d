// @vitest-environment node
// Issue 15: the whole package was 'use client', so a route handler calling
// conversationChannel('42') got a client reference instead of the function.
// 'use client' belongs on the modules that use React on the client, and the
// pure helpers (with all they import) must be plain modules without React.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');
const useClient = (code: string) => /^\s*(['"])use client\1/.test(code);
const localImports = (code: string) =>
  [...code.matchAll(/from\s+'(\.\/[^']+)\.js'/g)].map((m) => {
    const base = m[1] as string;
    return existsSync(new URL(`${base}.ts`, import.meta.url)) ? `${base}.ts` : `${base}.tsx`;
  });

describe("'use client' only where it is needed", () => {
  it('the entry point is not a client module', () => {
    expect(useClient(read('./index.ts'))).toBe(false);
  });

  it('conversationChannel and subscribeToConversation live in plain modules that import no React', () => {
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = read(file);
      expect(useClient(code), `${file} is 'use client'`).toBe(false);
      expect(/from\s+'react(-dom)?(\/[^']*)?'/.test(code), `${file} imports React`).toBe(false);
      for (const dep of localImports(code)) walk(dep);
    };
    const index = read('./index.ts');
    const from = /export\s*\{[^}]*\bconversationChannel\b[^}]*\}\s*from\s*'(\.\/[^']+)\.js'/.exec(index)?.[1];
    expect(from, 'index.ts re-exports conversationChannel').toBeDefined();
    walk(`${from}.ts`);
  });

  it('the modules with hooks and context are client modules', () => {
    for (const f of ['./context.tsx', './hooks.ts', './chat.ts']) expect(useClient(read(f)), f).toBe(true);
  });
});
