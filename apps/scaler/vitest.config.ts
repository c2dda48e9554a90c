import { projectTestConfig } from '../../vitest.shared';

// End-to-end tests start real processes; one file at a time keeps a 2-core machine honest.
export default projectTestConfig(import.meta.dirname, { fileParallelism: false, testTimeout: 120_000, hookTimeout: 120_000 });
