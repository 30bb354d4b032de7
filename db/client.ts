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
  return (await sql.begin(async (tx) => {
    await tx`select set_config('stash_mirror.writer', 'sync', true)`;
    return work(tx);
  })) as T;
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
