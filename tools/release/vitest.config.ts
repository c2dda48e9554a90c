import { projectTestConfig } from '../../vitest.shared';

export default projectTestConfig(import.meta.dirname, { testTimeout: 180_000, hookTimeout: 180_000 });
