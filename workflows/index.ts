// The workflow bundle's entry point: every workflow the worker runs is exported here.
export { syncEntityWorkflow } from './entity-sync.js';
export { scheduledSmartSyncWorkflow } from './scheduled-smart-sync.js';
export { fullSyncWorkflow, incrementalSyncWorkflow, smartSyncWorkflow } from './sync-run.js';
