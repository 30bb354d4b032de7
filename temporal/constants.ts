/** The one workflow id every sync runs under: Temporal refuses a second start while one runs. */
export const SYNC_WORKFLOW_ID = 'stash-mirror-sync';
