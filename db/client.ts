import { AsyncLocalStorage } from 'node:async_hooks';
import postgres from 'postgres';

export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;

export interface DatabaseOptions {
  max?: number;
  /** Used as application_name, so `pg_stat_activity` shows which process holds a connection. */
  applicationName?: string;
}

/** A postgres.js pool. bigint columns come back as JS numbers: Stash ids fit in 2^53. */
export function connect(databaseUrl: string, options: DatabaseOptions = {}): Sql {
  return postgres(databaseUrl, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'stash-mirror' },
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (value: number | bigint) => String(value),
        parse: (value: string) => Number(value),
      },
    },
  });
}

/**
 * Runs `work` in a transaction allowed to write mirror tables: the read-only trigger on every
 * mirror table refuses writes unless the transaction set this flag (migrations/…_mirror-schema.sql).
 */
export async function withSyncTransaction<T>(sql: Sql, work: (tx: TransactionSql) => Promise<T>): Promise<T> {
  // Read here, in the caller's async context: the pool may run the callback from another one.
  const check = commitChecks.getStore();
  return (await sql.begin(async (tx) => {
    await tx`select set_config('stash_mirror.writer', 'sync', true)`;
    const result = await work(tx);
    await check?.(tx);
    return result;
  })) as T;
}

/** A statement every sync transaction opened inside withCommitCheck runs last, before it commits. */
export type CommitCheck = (tx: TransactionSql) => Promise<void>;

const commitChecks = new AsyncLocalStorage<CommitCheck>();

/**
 * Runs `work` so that every withSyncTransaction inside it (however deep: sync/, db/postprocess/)
 * ends with `check`, which may throw to roll the transaction back. This is how a main sync's
 * writes are fenced by its run lease (db/sync-lease.ts fenceLease): one place, so that no
 * mirror-writing transaction of a run can forget it. Last, not first: the check locks the lease
 * row, and held from the first statement it would serialize a run's concurrent walks whole.
 */
export function withCommitCheck<T>(check: CommitCheck, work: () => Promise<T>): Promise<T> {
  return commitChecks.run(check, work);
}

/**
 * A jsonb parameter. postgres.js serializes by the parameter's server-side type, so a value
 * pre-stringified and cast to jsonb would be encoded twice: hand it the value itself.
 */
export function jsonb(db: Sql | TransactionSql, value: unknown): postgres.Parameter {
  return db.json(value as postgres.JSONValue);
}

/** A round trip to the server (readiness checks). */
export async function ping(db: Sql): Promise<void> {
  await db`select 1`;
}
