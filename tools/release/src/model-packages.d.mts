export function modelPackages(
  registry: { models: { weights?: { package?: string } }[] },
  rootPackage: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> },
  rootLock?: { packages?: Record<string, { resolved?: string }> },
): string[];
