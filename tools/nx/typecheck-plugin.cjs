// Infers a `typecheck` target (`tsc --noEmit`) for every project that has a tsconfig.json.
// Nx's own @nx/js/typescript plugin expects a TypeScript project-references build that emits
// declarations; this workspace bundles with esbuild and only needs the compiler to check types.
const { dirname } = require('node:path');
const { existsSync } = require('node:fs');

const createNodesV2 = [
  '**/tsconfig.json',
  (configFiles, _options, context) =>
    configFiles
      .map((file) => dirname(file))
      .filter((root) => root !== '.' && existsSync(`${context.workspaceRoot}/${root}/project.json`))
      .map((root) => [
        `${root}/tsconfig.json`,
        {
          projects: {
            [root]: {
              targets: {
                typecheck: {
                  command: 'tsc --noEmit -p tsconfig.json',
                  options: { cwd: root },
                  cache: true,
                  inputs: ['default', '^production', { externalDependencies: ['typescript'] }],
                  outputs: [],
                  metadata: { description: 'Type-checks the project with tsc, emitting nothing.' },
                },
              },
            },
          },
        },
      ]),
];

module.exports = { name: 'gpu-jobs-typecheck', createNodesV2 };
