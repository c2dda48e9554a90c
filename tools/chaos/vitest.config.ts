import { projectTestConfig } from '../../vitest.shared';

export default projectTestConfig(import.meta.dirname, { testTimeout: 600_000, hookTimeout: 120_000 });
