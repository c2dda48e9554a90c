import { describe, expect, it } from 'vitest';
import { assertValidBlobKey } from './blob-key';
import { InvalidBlobKeyError } from './errors';

describe('assertValidBlobKey', () => {
  it.each(['a', 'inputs/tenant-a/0192f1e4-7c1a-7bb2', 'results/j1.json', 'A9/b_c=d+e@f,g.h-i'])('accepts %s', (key) => {
    expect(() => assertValidBlobKey(key)).not.toThrow();
  });

  it.each([
    ['', /empty/],
    ['/etc/passwd', /absolute/],
    ['../x', /'\.\.'/],
    ['a/../../x', /'\.\.'/],
    ['a/./b', /'\.'/],
    ['a//b', /empty segment/],
    ['a/', /empty segment/],
    ['a\\b', /characters/],
    ['.hidden', /start with a letter or digit/],
    ['a\u0000b', /characters/],
    ['x'.repeat(1025), /longer than 1024/],
  ])('refuses %j', (key, reason) => {
    expect(() => assertValidBlobKey(key)).toThrow(InvalidBlobKeyError);
    expect(() => assertValidBlobKey(key)).toThrow(reason);
  });
});
