import { InvalidBlobKeyError } from './errors';

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._=+@,-]*$/;
export const MAX_BLOB_KEY_LENGTH = 1024;

/**
 * A key is 1 to 1024 characters of '/'-separated segments, each starting with a letter or digit:
 * no absolute paths, no '.' or '..', no empty segments, no backslashes or control characters. The
 * same rule holds on every adapter, so a key that works locally works on Azure Blob too.
 */
export function assertValidBlobKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidBlobKeyError(String(key), 'it is empty');
  if (key.length > MAX_BLOB_KEY_LENGTH) throw new InvalidBlobKeyError(key, `it is longer than ${MAX_BLOB_KEY_LENGTH} characters`);
  if (key.startsWith('/')) throw new InvalidBlobKeyError(key, 'it is an absolute path');
  for (const segment of key.split('/')) {
    if (segment === '..' || segment === '.') throw new InvalidBlobKeyError(key, `it contains a '${segment}' segment`);
    if (segment === '') throw new InvalidBlobKeyError(key, 'it contains an empty segment');
    if (!SEGMENT.test(segment))
      throw new InvalidBlobKeyError(
        key,
        `segment ${JSON.stringify(segment.slice(0, 40))} has characters outside [A-Za-z0-9._=+@,-] or does not start with a letter or digit`,
      );
  }
}
