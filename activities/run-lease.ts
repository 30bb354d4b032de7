import { Client } from '@temporalio/client';
import { type Sql, withCommitCheck, withSyncTransaction } from '../db/client.js';
import { type RunRecord, recordRunAbandoned, recordRunEnd, recordRunStart, runStatus } from '../db/runs.js';
import {
  describeHolder,
  fenceLease,
  type Lease,
  type LeaseHolder,
  readLease,
  releaseLease,
  SyncLeaseHeldError,
  type TakeCondition,
  takeLease,
} from '../db/sync-lease.js';
import { type FinishedRunStatus, isMainSyncType, type SyncType } from '../db/vocabulary.js';
import { chainLiveness } from '../temporal/run-identity.js';

/**
 * The database's run lease from the activities' side (db/sync-lease.ts has its SQL): a main
 * sync takes it when its run is recorded, every mirror-writing transaction of the run renews it
 * (fencing), and the run's end frees it. No workflow command is involved: the start and end are
 * the existing bookkeeping activities, so recorded histories replay unchanged.
 *
 * Single-entity syncs are exempt by design: they run beside the main sync (row-level locking and
 * the stamp check keep them safe, docs/sync-design.md), so they neither take nor check the lease.
 */

export interface LeaseDependencies {
  sql: Sql;
  /**
   * A client of the worker's own Temporal (its namespace is where this worker's runs live): to
   * ask whether a holder still runs, so that a run terminated from the Web UI, which records
   * nothing, is taken over at once rather than after the TTL. Without it only the TTL frees such
   * a lease.
   */
  temporal?: Client | undefined;
  /** How long a holder that Temporal cannot describe may go without renewing (default 600 s). */
  leaseTtlSeconds?: number | undefined;
}

/**
 * Ten minutes: longer than any phase of a live run that commits nothing (an id scan of a large
 * library, a Stash outage being retried), which must not lose its lease to a deployment whose
 * Temporal cannot see it; short enough that a dead holder blocks syncs only briefly.
 */
export const DEFAULT_LEASE_TTL_SECONDS = 600;

/** Takes before giving up for now (the activity is retried): each lost race means the lease moved. */
const TAKE_ATTEMPTS = 5;

/**
 * Records a run's start. A main sync also takes the lease, in the same transaction: when it is
 * free, already this run's (a retried start), held by a run recorded as finished, held by a run
 * Temporal says is no longer running (terminated, timed out...: its row is then ended as failed,
 * saying so), or held by a run Temporal cannot describe that has not renewed it for the TTL.
 * Otherwise the run is recorded as failed and SyncLeaseHeldError (non-retryable) names the holder.
 */
export async function startRun(deps: LeaseDependencies, run: RunRecord): Promise<void> {
  if (!isMainSyncType(run.syncType)) {
    await withSyncTransaction(deps.sql, (tx) => recordRunStart(tx, run));
    return;
  }
  const claimant: LeaseHolder = {
    runId: run.id,
    workflowId: run.workflowId,
    temporalRunId: run.temporalRunId,
    namespace: deps.temporal?.options.namespace ?? null,
  };
  for (let attempt = 1; attempt <= TAKE_ATTEMPTS; attempt++) {
    const plan = await planTake(deps, claimant, await readLease(deps.sql));
    if ('refuse' in plan) {
      // Recorded, so that the API, the CLI and `runs` show why this run did nothing.
      await withSyncTransaction(deps.sql, async (tx) => {
        await recordRunStart(tx, run);
        await recordRunEnd(tx, run.id, 'failed', plan.refuse);
      });
      throw new SyncLeaseHeldError(plan.refuse);
    }
    const taken = await withSyncTransaction(deps.sql, async (tx) => {
      // The holder's row before the lease row: the order every fenced commit locks them in.
      if (plan.abandon) await recordRunAbandoned(tx, plan.abandon.runId, plan.abandon.error);
      if (!(await takeLease(tx, claimant, plan.take))) throw LOST_RACE;
      await recordRunStart(tx, run);
    }).then(
      () => true,
      (error: unknown) => {
        if (error === LOST_RACE) return false;
        throw error;
      },
    );
    if (taken) return;
  }
  throw new Error(`the sync lease kept changing hands while run ${run.id} tried to take it; retrying`);
}

const LOST_RACE = Symbol('the lease changed between reading and taking it');

type TakePlan = { take: TakeCondition; abandon?: { runId: string; error: string } } | { refuse: string };

/** What to do about the lease as read: take it (ending a dead holder's row), or refuse. */
async function planTake(deps: LeaseDependencies, claimant: LeaseHolder, lease: Lease): Promise<TakePlan> {
  const holder = lease.holder;
  if (!holder) return { take: { kind: 'free' } };
  if (holder.runId === claimant.runId) return { take: { kind: 'same' } };
  const holderStatus = await runStatus(deps.sql, holder.runId);
  // Finished (its end was recorded, or its row is gone) without freeing it: nothing to wait for.
  if (holderStatus !== 'running') return { take: { kind: 'from', holderRunId: holder.runId } };
  const liveness = await holderLiveness(deps, holder);
  const who = describeHolder(lease);
  if ('running' in liveness) {
    if (liveness.running) {
      return {
        refuse: `another sync holds this database's sync lease: ${who}, still running in Temporal; one main sync at a time per database, so this run stops without writing (wait for it, or cancel it)`,
      };
    }
    return {
      take: { kind: 'from', holderRunId: holder.runId },
      abandon: {
        runId: holder.runId,
        error: `terminated outside stash-mirror: Temporal reports its workflow ${liveness.status}, so its end was never recorded; run ${claimant.runId} took its sync lease over`,
      },
    };
  }
  const ttl = deps.leaseTtlSeconds ?? DEFAULT_LEASE_TTL_SECONDS;
  const silent = Math.round(lease.silentSeconds ?? 0);
  if ((lease.silentSeconds ?? 0) >= ttl) {
    return {
      take: { kind: 'from', holderRunId: holder.runId, silentForSeconds: ttl },
      abandon: {
        runId: holder.runId,
        error: `abandoned: it had not renewed its sync lease for ${silent} s (more than ${ttl} s) and ${liveness.unknown}; run ${claimant.runId} took the lease over`,
      },
    };
  }
  return {
    refuse: `another sync holds this database's sync lease: ${who}, last renewed ${silent} s ago; ${liveness.unknown}, so it is taken over only after ${ttl} s without renewal; this run stops without writing`,
  };
}

/** Whether the holder's workflow still runs, or why that is not known. */
async function holderLiveness(
  deps: LeaseDependencies,
  holder: LeaseHolder,
): Promise<{ running: boolean; status: string } | { unknown: string }> {
  const own = deps.temporal;
  if (!own) return { unknown: 'this worker cannot ask Temporal whether it still runs' };
  const namespace = holder.namespace ?? own.options.namespace;
  // A holder of another deployment may live in another namespace of the same Temporal.
  const client = namespace === own.options.namespace ? own : new Client({ connection: own.connection, namespace });
  try {
    const state = await client.withDeadline(Date.now() + DESCRIBE_DEADLINE_MS, () =>
      chainLiveness(client, holder.workflowId, holder.temporalRunId),
    );
    return (
      state ?? {
        unknown: `Temporal (namespace ${namespace}) does not know its workflow (another Temporal, or past retention)`,
      }
    );
  } catch (error) {
    return { unknown: `Temporal could not be asked whether it still runs (${messageOf(error)})` };
  }
}

const DESCRIBE_DEADLINE_MS = 5_000;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Records a run's end and frees the lease if the run holds it, in one transaction. */
export async function endRun(sql: Sql, runId: string, status: FinishedRunStatus, error: string | null): Promise<void> {
  await withSyncTransaction(sql, async (tx) => {
    await recordRunEnd(tx, runId, status, error);
    await releaseLease(tx, runId);
  });
}

/**
 * Runs `work` (an activity's body) with every sync transaction it commits fenced by the lease of
 * `run` when it is a main sync: renewed as the transaction's last statement, or the transaction
 * rolled back with SyncLeaseLostError when another run holds it. Single-entity syncs (and inputs
 * from executions started before the fence, without a run) are not fenced.
 */
export function fenced<T>(run: { runId: string; syncType: SyncType } | undefined, work: () => Promise<T>): Promise<T> {
  if (!run || !isMainSyncType(run.syncType)) return work();
  return withCommitCheck((tx) => fenceLease(tx, run.runId), work);
}
