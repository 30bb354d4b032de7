/**
 * Errors from talking to Stash, split by whether retrying can help. Like every error the sync
 * raises, each says so where it is born (`retryable`); activities/adapter.ts turns the
 * non-retryable ones into non-retryable Temporal failures, with the class name as the failure
 * type. Messages never carry the API key or response bodies.
 */
export class StashError extends Error {
  readonly retryable: boolean = true;
}

/**
 * Network failures, 5xx, timeouts, truncated or unparseable bodies: worth retrying, for a while
 * (stash/outage.ts decides when an outage has lasted too long). The client fills in where the
 * request went and when Stash last answered, so that decision can say so readably.
 */
export class StashUnavailableError extends StashError {
  override readonly name = 'StashUnavailableError';
  /** STASH_URL as configured, any key or password in it masked (set by the client). */
  stashUrl: string | null = null;
  /** When this client last had any answer from Stash, epoch ms (null: none since it was created). */
  lastAnswerAtMs: number | null = null;
  constructor(
    message: string,
    /** The short cause for an outage message: `HTTP 503`, `connect ECONNREFUSED 10.0.0.5:9999`. */
    readonly reason: string = message,
  ) {
    super(message);
  }
}

/** 401/403: the API key is missing or wrong. Retrying will not fix it. */
export class StashAuthError extends StashError {
  override readonly name = 'StashAuthError';
  override readonly retryable = false;
}

/**
 * STASH_URL does not lead to a Stash GraphQL endpoint: the URL answered 404/405, an HTML page or
 * something that is not JSON. A configuration error: retrying the same URL cannot fix it.
 */
export class StashEndpointError extends StashError {
  override readonly name = 'StashEndpointError';
  override readonly retryable = false;
}

/** Stash rejected our query (422 GRAPHQL_VALIDATION_FAILED): a version mismatch or our bug. */
export class StashQueryError extends StashError {
  override readonly name = 'StashQueryError';
  override readonly retryable = false;
}

/** An `ids` query named an entity that no longer exists: the whole query fails in Stash. */
export class StashNotFoundError extends StashError {
  override readonly name = 'StashNotFoundError';
  override readonly retryable = false;
  constructor(
    message: string,
    readonly missingId: number | null,
  ) {
    super(message);
  }
}
