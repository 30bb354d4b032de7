declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL on the shared test PostgreSQL; each test file makes its own database. */
    adminDatabaseUrl: string;
    /** host:port of the shared Temporal dev server started for this test run. */
    temporalAddress: string;
  }
}

export {};
