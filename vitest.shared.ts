// One vitest configuration for every project: TypeScript path aliases resolved from tsconfig.base.json,
// node environment, and results written where Nx caches them.
import { fileURLToPath } from 'node:url';
import { dirname, relative } from 'node:path';
import tsconfigPaths from 'vite-tsconfig-paths';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const workspaceRoot = dirname(fileURLToPath(import.meta.url));

export function projectTestConfig(projectDir: string, overrides: ViteUserConfig['test'] = {}) {
  const name = relative(workspaceRoot, projectDir);
  return defineConfig({
    root: projectDir,
    cacheDir: `${workspaceRoot}/node_modules/.vite/${name}`,
    plugins: [tsconfigPaths({ root: workspaceRoot, projects: ['tsconfig.base.json'] })],
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts'],
      testTimeout: 20_000,
      hookTimeout: 20_000,
      reporters: process.env.CI ? ['default'] : ['default'],
      ...overrides,
    },
  });
}
