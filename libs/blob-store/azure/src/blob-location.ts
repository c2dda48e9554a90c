import { assertValidBlobKey } from '@gpu-jobs/blob-store';

export interface Containers {
  /** Job inputs: keys `inputs/...`. */
  inputs: string;
  /** Large results: keys `results/...`. */
  results: string;
}

export interface BlobLocation {
  container: string;
  blobName: string;
}

/**
 * Where a key lives on Azure Blob: `inputs/<rest>` and `results/<rest>` in their own containers (so a
 * lifecycle rule and access can differ per container), any other key in the inputs container under
 * `_other/<key>`. A key segment never starts with `_`, so the two namespaces cannot meet.
 */
export function locate(key: string, containers: Containers): BlobLocation {
  assertValidBlobKey(key);
  const slash = key.indexOf('/');
  const head = slash > 0 ? key.slice(0, slash) : '';
  const rest = slash > 0 ? key.slice(slash + 1) : '';
  if (head === 'inputs' && rest) return { container: containers.inputs, blobName: rest };
  if (head === 'results' && rest) return { container: containers.results, blobName: rest };
  return { container: containers.inputs, blobName: `_other/${key}` };
}

/** Block ids must all have the same length within a blob; base64 of a zero-padded counter. */
export function blockId(index: number): string {
  return Buffer.from(String(index).padStart(6, '0')).toString('base64');
}
