// Lint for every project. The module-boundary rule is the architecture in code:
// apps never import apps, libs never import apps, a port's adapters never import each other.
import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: [
      '**/dist',
      '**/node_modules',
      '**/.toolchain',
      '**/tmp',
      '**/.data',
      '**/vite.config.*.timestamp*',
      '**/vitest.config.*.timestamp*',
    ],
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            // by type: apps and tools sit on libs; libs sit on libs only
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:app', notDependOnLibsWithTags: ['type:app', 'type:tool', 'type:infra'] },
            // by scope: shared libs depend on shared libs; a port on shared libs;
            // an adapter on its own port and shared libs, never on another adapter
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:queue', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:task-store', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:blob-store', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:orchestrator', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:queue-adapter', onlyDependOnLibsWithTags: ['scope:queue', 'scope:shared'] },
            { sourceTag: 'scope:task-store-adapter', onlyDependOnLibsWithTags: ['scope:task-store', 'scope:shared'] },
            { sourceTag: 'scope:blob-store-adapter', onlyDependOnLibsWithTags: ['scope:blob-store', 'scope:shared'] },
            { sourceTag: 'scope:orchestrator-adapter', onlyDependOnLibsWithTags: ['scope:orchestrator', 'scope:shared'] },
            // what deploy/ holds and how a release fills it: for the release tool, infra's and deploy's tests
            { sourceTag: 'scope:deployment', onlyDependOnLibsWithTags: ['scope:shared'] },
            // the platform lib is the one place that wires adapters to ports for the apps
            {
              sourceTag: 'scope:platform',
              onlyDependOnLibsWithTags: [
                'scope:shared',
                'scope:queue',
                'scope:task-store',
                'scope:blob-store',
                'scope:orchestrator',
                'scope:queue-adapter',
                'scope:task-store-adapter',
                'scope:blob-store-adapter',
                'scope:orchestrator-adapter',
              ],
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // build and test configuration files may reach the workspace's shared configuration
    files: ['**/vitest.config.ts', '**/eslint.config.mjs'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
