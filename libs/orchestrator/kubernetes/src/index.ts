export * from './kubernetes-orchestrator';
