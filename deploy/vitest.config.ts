import { projectTestConfig } from '../vitest.shared';

export default projectTestConfig(import.meta.dirname, { testTimeout: 60_000 });
