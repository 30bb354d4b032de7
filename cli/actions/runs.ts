import { entityHistory, type HistoryEntry, isEntityKnown, listRunRows } from '../../db/runs.js';
import type { RunStatus, SyncType } from '../../db/vocabulary.js';
import { ENTITY_TABLES, type EntityType } from '../../stash/entity-types.js';
import { fail } from '../shared.js';
import { loadConfig } from './config.js';
import { count, localTime, table } from './format.js';
import { type RunView, toRunView } from './run-view.js';
import { printJson, printLines, uiLink, withDatabase } from './session.js';
import { runDuration } from './status.js';

export interface RunsOptions {
  type?: SyncType | undefined;
  status?: RunStatus | undefined;
  limit: number;
  json: boolean;
}

const outcome = (key: string) => ({
  header: key,
  align: 'right' as const,
  value: (run: RunView) => count(run.totals[key as keyof RunView['totals']] ?? 0),
});

/** `stash-mirror runs [--type] [--status] [--limit]`: newest first. */
export async function runRuns(options: RunsOptions): Promise<void> {
  const config = loadConfig();
  const { count: matching, rows } = await withDatabase(config, ({ sql }) =>
    listRunRows(sql, { page: 1, perPage: options.limit, type: options.type, status: options.status }),
  );
  const runs = rows.map((row) => toRunView(row, uiLink(config)));
  if (options.json) return printJson({ count: matching, runs });
  if (runs.length === 0) return printLines([options.type || options.status ? 'no runs match' : 'no runs yet']);
  printLines([
    ...table(
      [
        { header: 'run', value: (run: RunView) => run.id },
        { header: 'type', value: (run) => run.type },
        { header: 'trigger', value: (run) => run.trigger },
        { header: 'status', value: (run) => run.status },
        { header: 'started', value: (run) => localTime(run.startedAt) },
        { header: 'took', value: (run) => runDuration(run) },
        outcome('fetched'),
        outcome('created'),
        outcome('updated'),
        outcome('deleted'),
        outcome('failed'),
      ],
      runs,
    ),
    ...(matching > runs.length ? [`${runs.length} of ${matching} runs (--limit shows more)`] : []),
  ]);
}

export interface LogsOptions {
  entityType: EntityType;
  id: number;
  limit: number;
  json: boolean;
}

/** `stash-mirror logs <type> <id>`: what each run did to one entity, newest first. */
export async function runLogs(options: LogsOptions): Promise<void> {
  const config = loadConfig();
  const { entityType, id } = options;
  const entries = await withDatabase(config, async ({ sql }) => {
    if (!(await isEntityKnown(sql, entityType, ENTITY_TABLES[entityType], id))) {
      fail(`${entityType} ${id} has never been synced (no row in the mirror, no log rows)`);
    }
    return entityHistory(sql, entityType, id, options.limit);
  });
  // As db/runs.ts reads them (JSON turns the dates into ISO strings).
  if (options.json) return printJson({ entityType, id, logs: entries });
  printLines([
    `${entityType} ${id}: ${entries.length} log ${entries.length === 1 ? 'row' : 'rows'}, newest first`,
    ...table(
      [
        { header: 'when', value: (log: HistoryEntry) => localTime(log.createdAt) },
        { header: 'sync', value: (log) => log.syncType },
        { header: 'change', value: (log) => (log.runWide ? `${log.changeType} (whole type)` : log.changeType) },
        { header: 'fields', value: (log) => log.changedFields?.join(', ') || '-' },
        {
          header: 'run',
          value: (log) => (log.run ? `${log.runId} (${log.run.trigger}, ${log.run.status})` : log.runId),
        },
        { header: 'error', value: (log) => log.errorMessage ?? '' },
      ],
      entries,
    ),
  ]);
}
