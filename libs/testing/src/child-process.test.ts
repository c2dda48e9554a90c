import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TsChild } from './child-process';
import { makeTempDir } from './temp-dir';

const dir = makeTempDir();
const children: TsChild[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.stop()));
});

describe('TsChild', () => {
  it('runs a TypeScript module with workspace aliases and reads its JSON lines', async () => {
    const file = join(dir.path, 'child.ts');
    writeFileSync(
      file,
      `import { isTerminal } from '@gpu-jobs/job-contract';
       const args: { n: number } = JSON.parse(process.argv[2] ?? '{}');
       console.log(JSON.stringify({ n: args.n * 2, terminal: isTerminal('failed') }));
       setInterval(() => undefined, 1000);`,
    );
    const child = TsChild.start(file, { n: 21 });
    children.push(child);
    const line = await child.waitForLine((l) => 'n' in l);
    expect(line).toEqual({ n: 42, terminal: true });
    await child.stop();
    expect((await child.exited).signal).toBe('SIGKILL');
    dir.remove();
  });
});
