export type { AfterRequestsOptions, SimulatorControl } from './control.js';
export { describeLibrary, libraryCounts } from './describe.js';
export type { EntityOf, EntityPatch, EntityType } from './entities.js';
export type { FaultOptions } from './faults.js';
export type { Executor } from './graphql-handler.js';
export type * from './model.js';
export { loadRealStashSchema, realStashSchemaDir, schemaSubsetProblems } from './real-schema.js';
export { simulatorSchema } from './resolvers.js';
export { isScale, type LibraryCounts, SCALES, type Scale } from './scales.js';
export { findSeedScenario, type SeedScenario } from './scenario.js';
export { type RunningSimulator, type SimulatorServerOptions, startSimulatorServer } from './server.js';
export {
  createSimulator,
  DEFAULT_HISTORY_END,
  type ListeningSimulator,
  type Simulator,
  type SimulatorOptions,
} from './simulator.js';
export type { FieldStats, RecentRequest, RequestStats } from './stats.js';
export type { SceneMergeOptions } from './store.js';
export { formatStashTime } from './time.js';
