import type { Sql, TransactionSql } from './client.js';
import { findRunRow } from './runs.js';

type Db = Sql | TransactionSql;

/**
 * The database's run lease (sync_lease, one row): which main sync (full, incremental, smart) may
 * write the mirror now, whatever its workflow id. Temporal's fixed workflow id keeps syncs one at
 * a time per SYNC_WORKFLOW_ID only; two deployments with different ids on one database are kept
 * apart here. activities/run-lease.ts decides when to take it (the rules are in its acquire);
 * this file is its SQL. Single-entity syncs never take it: they run beside the main sync by design.
 */

/** The run holding the lease, as recorded by acquire. */
export interface LeaseHolder {
  /** sync_runs.id: `<workflowId>/<first execution run id>`. */
  runId: string;
  workflowId: string;
  /** The chain's first execution's run id. */
  temporalRunId: string;
  /** Its Temporal namespace (null: not known, e.g. adopted by a run started before the lease existed). */
  namespace: string | null;
}

export interface Lease {
  holder: LeaseHolder | null;
  acquiredAt: Date | null;
  renewedAt: Date | null;
  /** Seconds since the holder last renewed it (the database's clock); null when free. */
  silentSeconds: number | null;
}

/** The lease now. */
export async function readLease(db: Db): Promise<Lease> {
  const [row] = await db`
    select *, extract(epoch from now() - renewed_at)::float8 as silent_seconds from sync_lease`;
  if (!row?.holder_run_id) return { holder: null, acquiredAt: null, renewedAt: null, silentSeconds: null };
  return {
    holder: {
      runId: String(row.holder_run_id),
      workflowId: String(row.holder_workflow_id),
      temporalRunId: String(row.holder_temporal_run_id),
      namespace: (row.holder_namespace as string | null) ?? null,
    },
    acquiredAt: row.acquired_at as Date,
    renewedAt: row.renewed_at as Date,
    silentSeconds: Number(row.silent_seconds),
  };
}

/**
 * What a take may replace, checked again by the UPDATE itself (compare-and-set: what was read
 * before may have changed): `free`; `same` (the claimant holds it already: a retried start);
 * `from` a named holder, and with `silentForSeconds` only while that holder has not renewed for
 * that long (a holder that renewed meanwhile is alive).
 */
export type TakeCondition =
  | { kind: 'free' }
  | { kind: 'same' }
  | { kind: 'from'; holderRunId: string; silentForSeconds?: number };

/** Takes the lease for `claimant` if `condition` still holds; false when it no longer does. */
export async function takeLease(tx: TransactionSql, claimant: LeaseHolder, condition: TakeCondition): Promise<boolean> {
  const expected =
    condition.kind === 'free'
      ? tx`holder_run_id is null`
      : condition.kind === 'same'
        ? tx`holder_run_id = ${claimant.runId}`
        : condition.silentForSeconds === undefined
          ? tx`holder_run_id = ${condition.holderRunId}`
          : tx`holder_run_id = ${condition.holderRunId}
               and renewed_at < now() - make_interval(secs => ${condition.silentForSeconds})`;
  const taken = await tx`
    update sync_lease set
      acquired_at = case when holder_run_id = ${claimant.runId} then acquired_at else now() end,
      renewed_at = now(),
      holder_run_id = ${claimant.runId},
      holder_workflow_id = ${claimant.workflowId},
      holder_temporal_run_id = ${claimant.temporalRunId},
      holder_namespace = ${claimant.namespace}
    where ${expected}`;
  return taken.count === 1;
}

/** Frees the lease if `runId` holds it (a run's end; a no-op for any other run). */
export async function releaseLease(tx: TransactionSql, runId: string): Promise<void> {
  await tx`
    update sync_lease set holder_run_id = null, holder_workflow_id = null, holder_temporal_run_id = null,
      holder_namespace = null, acquired_at = null, renewed_at = null
    where holder_run_id = ${runId}`;
}

/**
 * The fence: renews the lease for `runId` in the caller's transaction, or throws
 * SyncLeaseLostError (rolling the transaction back) when another run holds it. Run as the last
 * statement of every transaction a main sync writes the mirror in (db/client.ts withCommitCheck):
 * the row lock it takes makes a takeover wait for the commit, and a commit after a takeover fail,
 * so two runs' writes can never interleave, not even after a TTL takeover of a run that was only
 * slow.
 *
 * A free lease is adopted by a run still recorded as running: a run in flight across the upgrade
 * that introduced the lease never took it at its start. A run whose lease was taken over is no
 * longer recorded as running (the taker ended its row), so it cannot adopt its way back in.
 */
export async function fenceLease(tx: TransactionSql, runId: string): Promise<void> {
  const renewed = await tx`update sync_lease set renewed_at = now() where holder_run_id = ${runId}`;
  if (renewed.count === 1) return;
  const lease = await readLease(tx);
  if (!lease.holder) {
    const run = await findRunRow(tx, runId);
    if (run?.id === runId && run.status === 'running') {
      const holder = { runId, workflowId: run.workflow_id, temporalRunId: run.temporal_run_id, namespace: null };
      if (await takeLease(tx, holder, { kind: 'free' })) return;
    }
  }
  throw new SyncLeaseLostError(runId, lease);
}

/** "run X (workflow W, Temporal run R, namespace N) since T": who holds a lease, for messages. */
export function describeHolder(lease: Lease): string {
  const holder = lease.holder;
  if (!holder) return 'nobody (free)';
  const namespace = holder.namespace ? `, namespace ${holder.namespace}` : '';
  return `run ${holder.runId} (workflow ${holder.workflowId}, Temporal run ${holder.temporalRunId}${namespace}) since ${lease.acquiredAt?.toISOString()}`;
}

/**
 * A main sync refused at its start: another run holds the database's lease. Retrying cannot help
 * while that run works, so the run fails at once, naming the holder.
 */
export class SyncLeaseHeldError extends Error {
  override readonly name = 'SyncLeaseHeldError';
  readonly retryable = false;
}

/**
 * A main sync's write refused because another run took the lease over (its workflow was thought
 * terminated, or it had been silent for longer than the TTL): the write was rolled back, and the
 * run must stop, since a retry would be refused the same way.
 */
export class SyncLeaseLostError extends Error {
  override readonly name = 'SyncLeaseLostError';
  readonly retryable = false;
  constructor(
    readonly runId: string,
    readonly lease: Lease,
  ) {
    super(
      lease.holder
        ? `run ${runId} lost the database's sync lease to ${describeHolder(lease)}: it stops here without writing (one main sync at a time per database)`
        : `run ${runId} no longer holds the database's sync lease (its run was ended while it still worked): it stops here without writing`,
    );
  }
}
