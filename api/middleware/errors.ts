import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import type { ZodError } from 'zod';
import { isTemporalUnavailable } from '../../temporal/run-identity.js';
import type { AppEnv } from '../context.js';

/**
 * An expected failure with a status and a message safe to show. Anything else thrown in a
 * handler is a bug or an outage: it is logged with the request id and answered as a bare 500.
 */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A 400 naming the offending field, in the same shape as schema failures. */
export function badRequest(field: string, message: string): ApiError {
  return new ApiError(400, message, { field });
}

const TARGET_NAMES: Record<string, string> = { json: 'body', query: 'query', param: 'path', form: 'body' };
const MAX_MESSAGE = 300;

/** The first zod issue as `{ error, field }`: `field` is the dotted path inside the body, query or path. */
export function describeZodError(error: ZodError, target: string): { error: string; field: string } {
  let issue = error.issues[0];
  if (!issue) return { error: 'invalid request', field: TARGET_NAMES[target] ?? target };
  const path = issue.path.map(String);
  // "Invalid input" of a union (an id is a string or a number) says less than its first branch.
  if (issue.code === 'invalid_union') {
    const branch = issue.errors[0]?.[0];
    if (branch) {
      path.push(...branch.path.map(String));
      issue = branch;
    }
  }
  // An unknown key is the field to blame, not the object that holds it.
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  const field = path.length > 0 ? path.join('.') : (TARGET_NAMES[target] ?? target);
  const message = issue.code === 'unrecognized_keys' ? 'is not a supported field' : issue.message;
  return { error: truncate(`${field}: ${message}`), field };
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

/** The defaultHook of every OpenAPI route: a failed schema answers 400 before the handler runs. */
export function validationHook(
  result: { success: true } | { success: false; error: ZodError; target: string },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  return c.json(describeZodError(result.error, result.target), 400);
}

/** Hono's own HTTP errors (malformed JSON, wrong media type, body too large) as JSON. */
const HTTP_MESSAGES: Partial<Record<number, { error: string; field?: string }>> = {
  400: { error: 'body: malformed JSON', field: 'body' },
  413: { error: 'body: request body too large', field: 'body' },
  415: { error: 'body: send application/json', field: 'body' },
};

export function errorHandler(logger: Logger) {
  return (error: Error, c: Context<AppEnv>): Response => {
    if (error instanceof ApiError) return c.json({ error: error.message, ...error.extra }, error.status);
    if (error instanceof HTTPException && error.status < 500) {
      const known = HTTP_MESSAGES[error.status] ?? { error: 'bad request' };
      return c.json(known, error.status);
    }
    const requestId = c.get('requestId');
    if (isTemporalUnavailable(error)) {
      logger.warn({ requestId, err: error }, 'temporal unavailable');
      return c.json({ error: 'temporal unavailable', requestId }, 503);
    }
    logger.error({ requestId, err: error }, 'request failed');
    return c.json({ error: 'internal error', requestId }, 500);
  };
}
