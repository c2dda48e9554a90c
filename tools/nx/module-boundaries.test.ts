// The architecture rules are only as good as the lint that enforces them: this lints probe files
// placed inside real projects and checks that forbidden imports are reported, allowed ones not.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { workspaceRoot } from '@gpu-jobs/testing';

const eslint = new ESLint({ cwd: workspaceRoot() });

async function boundaryErrors(fromFile: string, importPath: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import * as probe from '${importPath}';\nexport const used = probe;\n`, { filePath: fromFile });
  return (result?.messages ?? []).filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('module boundaries', () => {
  it('an adapter may import its port and shared libs', async () => {
    expect(await boundaryErrors('libs/queue/embedded/src/probe.ts', '@gpu-jobs/queue')).toEqual([]);
    expect(await boundaryErrors('libs/queue/embedded/src/probe.ts', '@gpu-jobs/embedded-sqlite')).toEqual([]);
  });

  it("a port's adapter never imports another adapter", async () => {
    expect(await boundaryErrors('libs/queue/embedded/src/probe.ts', '@gpu-jobs/task-store-embedded')).not.toEqual([]);
    expect(await boundaryErrors('libs/blob-store/local/src/probe.ts', '@gpu-jobs/queue-embedded')).not.toEqual([]);
  });

  it('an adapter never imports another port', async () => {
    expect(await boundaryErrors('libs/task-store/embedded/src/probe.ts', '@gpu-jobs/queue')).not.toEqual([]);
  });

  it('a port never imports an adapter, and shared libs import only shared libs', async () => {
    expect(await boundaryErrors('libs/queue/port/src/probe.ts', '@gpu-jobs/queue-embedded')).not.toEqual([]);
    expect(await boundaryErrors('libs/job-contract/src/probe.ts', '@gpu-jobs/queue')).not.toEqual([]);
  });

  it('libs never import tools or apps', async () => {
    expect(await boundaryErrors('libs/job-contract/src/probe.ts', '../../../tools/bench/src/stats')).not.toEqual([]);
  });
}, 60_000);
