import { projectTestConfig } from '../../../vitest.shared';

// The contract suite starts consumer processes; running files one at a time keeps a 2-core machine honest.
export default projectTestConfig(import.meta.dirname, { fileParallelism: false });
