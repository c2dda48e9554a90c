// npm run -s release-values -- --values values.json --image gateway=sha256:<hex> --image worker-cuda=sha256:<hex>
// Writes deploy/release/kustomization.yaml for the environment whose `pulumi stack output releaseValues --json`
// is in values.json; exits 1 naming each missing or malformed value.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderReleaseComponent, type StackValues } from '@gpu-jobs/deployment';

const { values } = parseArgs({
  options: { values: { type: 'string' }, image: { type: 'string', multiple: true }, out: { type: 'string' } },
});
if (!values.values) {
  console.error('usage: release-values --values <file of `pulumi stack output releaseValues --json`> --image <image>=sha256:<hex> ...');
  process.exit(2);
}
const digests = Object.fromEntries((values.image ?? []).map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));
try {
  const text = renderReleaseComponent(JSON.parse(readFileSync(values.values, 'utf8')) as StackValues, digests);
  const out = values.out ?? join(process.cwd(), 'deploy/release/kustomization.yaml');
  writeFileSync(out, text);
  console.error(`wrote ${out}`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
