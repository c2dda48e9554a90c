// What deploy/ holds and how a release fills it in: manifest rendering, schema and policy checks, the images a
// release ships, and the release component written from a stack's values. Used by the release tool, the
// manifest tests and the deployment-contract tests.
export * from './manifests';
export * from './release-images';
export * from './release-component';
