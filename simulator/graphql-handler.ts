import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  type FieldNode,
  type GraphQLError,
  type GraphQLSchema,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  Kind,
  type OperationDefinitionNode,
  parse,
  validate,
} from 'graphql';
import { compiledOperation, runCompiled } from './compiled.js';
import type { Corruptions } from './corruptions.js';
import type { Lister } from './query.js';
import type { RequestContext } from './resolvers.js';
import { Rng } from './rng.js';
import type { StatsRecorder } from './stats.js';
import type { Store } from './store.js';

export interface GraphqlDeps {
  schema: GraphQLSchema;
  store: Store;
  lister: Lister;
  stats: StatsRecorder;
  corruptions: Corruptions;
  /** Advances once per executed request; each request's tie order comes from it. */
  requestRng: Rng;
  /**
   * 'compiled' (default): queries run as graphql-jit code where that answers exactly as graphql-js
   * (simulator/compiled.ts); 'graphql-js': always graphql-js's execute (the oracle in tests).
   */
  executor?: Executor;
}

export type Executor = 'compiled' | 'graphql-js';

export interface JsonReply {
  status: number;
  body: unknown;
}

export interface PreparedRequest {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables: Record<string, unknown>;
  /** The variables as graphql-js coerced them (what the compiled query runs with). */
  coerced: Record<string, unknown>;
  rootFields: string[];
}

/**
 * Parses, validates and coerces a request the way gqlgen (Stash's server) does: malformed bodies
 * and batches get 400, syntax errors 422 GRAPHQL_PARSE_FAILED, invalid documents or variables 422
 * GRAPHQL_VALIDATION_FAILED. Valid requests are counted per root field here, before any fault.
 */
export function prepareRequest(deps: GraphqlDeps, rawBody: string): PreparedRequest | JsonReply {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch (error) {
    return failure(400, `json request body could not be decoded: ${(error as Error).message}`);
  }
  if (Array.isArray(body)) return failure(400, 'batched requests are not supported');
  if (body === null || typeof body !== 'object') return failure(400, 'json request body could not be decoded');
  const { query, variables, operationName } = body as { query?: unknown; variables?: unknown; operationName?: unknown };
  if (typeof query !== 'string' || query.trim() === '')
    return failure(422, 'no operation provided', 'GRAPHQL_VALIDATION_FAILED');
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) {
    return failure(400, 'variables must be an object');
  }
  const checked = checkDocument(deps.schema, query);
  if ('status' in checked) return checked;
  const { document } = checked;
  const operation = getOperationAST(document, typeof operationName === 'string' ? operationName : null);
  if (!operation) return failure(422, 'operation not found', 'GRAPHQL_VALIDATION_FAILED');
  const rawVariables = (variables ?? {}) as Record<string, unknown>;
  const coerced = getVariableValues(deps.schema, operation.variableDefinitions ?? [], rawVariables);
  if (coerced.errors) return failures(422, coerced.errors, 'GRAPHQL_VALIDATION_FAILED');

  const rootType = operation.operation === 'mutation' ? deps.schema.getMutationType() : deps.schema.getQueryType();
  const rootFields: string[] = [];
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    const name = (selection as FieldNode).name.value;
    const def = rootType?.getFields()[name];
    if (!def) continue;
    rootFields.push(name);
    let args: Record<string, unknown> = {};
    try {
      args = getArgumentValues(def, selection, coerced.coerced);
    } catch {
      // Execution will report the argument error; the request still counts.
    }
    deps.stats.field(name, args, rawVariables);
  }
  return { document, operation, variables: rawVariables, coerced: coerced.coerced, rootFields };
}

// Clients send the same few documents thousands of times; parsing and validating once is what
// gqlgen's query cache does too.
const documents = new Map<string, { document: DocumentNode } | JsonReply>();
let documentsSchema: GraphQLSchema | null = null;

function checkDocument(schema: GraphQLSchema, query: string): { document: DocumentNode } | JsonReply {
  if (documentsSchema !== schema) {
    documents.clear();
    documentsSchema = schema;
  }
  const hit = documents.get(query);
  if (hit) return hit;
  let checked: { document: DocumentNode } | JsonReply;
  try {
    const document = parse(query);
    const errors = validate(schema, document);
    checked = errors.length > 0 ? failures(422, errors, 'GRAPHQL_VALIDATION_FAILED') : { document };
  } catch (error) {
    checked = failure(422, (error as GraphQLError).message, 'GRAPHQL_PARSE_FAILED');
  }
  if (documents.size >= 200) documents.delete(documents.keys().next().value as string);
  documents.set(query, checked);
  return checked;
}

export function executePrepared(deps: GraphqlDeps, prepared: PreparedRequest): JsonReply {
  const corrupting = deps.corruptions.active();
  // One draw per request, whichever executor answers: the same seed replays the same tie order.
  const seed = deps.requestRng.uint32();
  const compiled =
    corrupting || deps.executor === 'graphql-js'
      ? null
      : compiledOperation(deps.schema, prepared.document, prepared.operation);
  if (compiled) {
    const rows = new PendingRows();
    const result = runCompiled(compiled, context(deps, seed, rows), prepared.coerced);
    // Errors (a missing id, a bad sort...) are rare: graphql-js answers those again from the same
    // seed, so their messages, paths and null propagation are exactly graphql-js's. Queries have
    // no side effects but the rows counted, which only the run that answers records.
    if (!result.errors) {
      rows.commit(deps.stats);
      return { status: 200, body: result };
    }
  }
  const document = corrupting ? deps.corruptions.instrument(deps.schema, prepared.document) : prepared.document;
  const result = execute({
    schema: deps.schema,
    document,
    variableValues: prepared.variables,
    operationName: prepared.operation.name?.value ?? null,
    contextValue: context(deps, seed, deps.stats),
  }) as ExecutionResult;
  // Resolvers are synchronous, so execute() never returns a promise here.
  if (!corrupting) return { status: 200, body: result };
  // Patching needs plain mutable JSON, so only corrupted runs pay for the round trip.
  const json = JSON.parse(JSON.stringify(result)) as { data?: unknown };
  if (json.data) deps.corruptions.apply(json.data);
  return { status: 200, body: json };
}

function context(deps: GraphqlDeps, seed: number, stats: RequestContext['stats']): RequestContext {
  return { store: deps.store, lister: deps.lister, rng: new Rng(seed), stats };
}

/** Rows counted by a run whose answer may still be discarded. */
class PendingRows {
  private readonly counted: [string, number][] = [];

  rows(field: string, count: number): void {
    this.counted.push([field, count]);
  }

  commit(stats: StatsRecorder): void {
    for (const [field, count] of this.counted) stats.rows(field, count);
  }
}

export function isReply(value: PreparedRequest | JsonReply): value is JsonReply {
  return 'status' in value;
}

function failure(status: number, message: string, code?: string): JsonReply {
  return {
    status,
    body: { errors: [{ message, ...(code ? { extensions: { code } } : {}) }], data: null },
  };
}

function failures(status: number, errors: readonly GraphQLError[], code: string): JsonReply {
  return {
    status,
    body: {
      errors: errors.map((e) => ({ ...e.toJSON(), extensions: { ...(e.extensions ?? {}), code } })),
      data: null,
    },
  };
}
