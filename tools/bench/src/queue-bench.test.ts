import { describe, expect, it } from 'vitest';
import { embeddedQueueConsumerProcesses, embeddedQueueOneConsumer, rawSqliteBaseline } from './queue-bench';
import { median } from './stats';

// Keeps the benchmark code working; it asserts no speed (that is what `npm run bench` is for).
describe('queue benchmark', () => {
  it('every measurement runs to completion on a small load and yields a rate', async () => {
    const options = { messages: 200, batch: 16 };
    expect(rawSqliteBaseline(options)).toBeGreaterThan(0);
    expect(await embeddedQueueOneConsumer(options)).toBeGreaterThan(0);
    expect(await embeddedQueueConsumerProcesses(options, 2)).toBeGreaterThan(0);
  }, 60_000);

  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
