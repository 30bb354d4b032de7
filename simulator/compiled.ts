/**
 * Documents compiled to plain JavaScript by graphql-jit, for the requests where its answer is
 * graphql-js's answer byte for byte (test/simulator/compiled.test.ts holds it to that):
 *
 * - queries only (a mutation changes the store: it runs once, through graphql-js);
 * - no directives (graphql-jit's @skip/@include read the variables' declared types, which the
 *   compiled document replaces, see below) and no introspection;
 * - no variable inside a literal argument value (`filter: { per_page: $n }`): graphql-jit sets an
 *   unprovided one to null where graphql-js leaves the input field out;
 * - variables are coerced by graphql-js (prepareRequest already did it) and handed over as they
 *   are: graphql-jit's own variable parser recurses forever on Stash's self-referencing filter
 *   inputs (AND/OR/NOT), so the compiled document declares each variable as an opaque scalar.
 *
 * Whatever a compiled query answers with errors is answered again by graphql-js (see
 * executePrepared): error messages, paths and null propagation are graphql-js's own.
 */
import { createRequire } from 'node:module';
import {
  type ArgumentNode,
  BREAK,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  isEnumType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  isUnionType,
  Kind,
  type OperationDefinitionNode,
  printSchema,
  type ValueNode,
  visit,
} from 'graphql';
import type * as Jit from 'graphql-jit';

// graphql-jit is CommonJS and checks schema types with instanceof against the graphql it requires
// itself; an ESM importer (Vitest) may hold graphql's other build, so the compiled schema is
// always built with graphql-jit's own graphql instance.
const require = createRequire(import.meta.url);
const jit = require('graphql-jit') as typeof Jit;
const jitGraphql = createRequire(require.resolve('graphql-jit'))('graphql') as typeof import('graphql');

export type Compiled = Jit.CompiledQuery;

const OPAQUE = 'SimulatorCoercedValue';

const compileSchemas = new WeakMap<GraphQLSchema, GraphQLSchema | null>();
// Per operation: 'seen' after its first request, then its compiled form (or null) from the second.
const compiledDocuments = new WeakMap<GraphQLSchema, WeakMap<OperationDefinitionNode, Compiled | null | 'seen'>>();

/**
 * The compiled form of a validated document's operation, or null where graphql-js must run it.
 * A document is compiled on its second request: compiling costs more than running graphql-js
 * once, and clients that walk pages send the same few documents over and over.
 */
export function compiledOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
): Compiled | null {
  let bySchema = compiledDocuments.get(schema);
  if (!bySchema) {
    bySchema = new WeakMap();
    compiledDocuments.set(schema, bySchema);
  }
  const hit = bySchema.get(operation);
  if (hit === undefined) {
    bySchema.set(operation, 'seen');
    return null;
  }
  if (hit !== 'seen') return hit;
  const compiled = compilable(document, operation) ? compile(schema, document, operation) : null;
  bySchema.set(operation, compiled);
  return compiled;
}

/** Runs a compiled query with variables graphql-js already coerced. Resolvers are synchronous. */
export function runCompiled(compiled: Compiled, context: unknown, coerced: Record<string, unknown>): ExecutionResult {
  return compiled.query(undefined, context, coerced) as ExecutionResult;
}

function compile(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): Compiled | null {
  const opaque = { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: OPAQUE } } as const;
  const rewritten: OperationDefinitionNode = {
    ...operation,
    variableDefinitions: (operation.variableDefinitions ?? []).map((definition) => ({
      ...definition,
      type: opaque,
      defaultValue: undefined,
    })),
  };
  const target = compileSchema(schema);
  if (!target) return null;
  const compiled = jit.compileQuery(
    target,
    {
      ...document,
      definitions: document.definitions.map((definition) => (definition === operation ? rewritten : definition)),
    },
    operation.name?.value,
  );
  return jit.isCompiledQuery(compiled) ? compiled : null;
}

/**
 * The schema rebuilt by graphql-jit's graphql, with the same resolvers, type resolvers and scalar
 * functions, plus one scalar that passes already-coerced variable values through unchanged. Null
 * (graphql-js runs everything) for a schema whose parts cannot be carried over exactly.
 */
function compileSchema(schema: GraphQLSchema): GraphQLSchema | null {
  let rebuilt = compileSchemas.get(schema);
  if (rebuilt === undefined) {
    rebuilt = rebuild(schema);
    compileSchemas.set(schema, rebuilt);
  }
  return rebuilt;
}

function rebuild(schema: GraphQLSchema): GraphQLSchema | null {
  const target = jitGraphql.buildSchema(`${printSchema(schema)}\nscalar ${OPAQUE}\n`);
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    const copy = target.getType(type.name);
    if (!copy) return null;
    if (isObjectType(type) && jitGraphql.isObjectType(copy)) {
      const fields = copy.getFields();
      for (const field of Object.values(type.getFields())) {
        const into = fields[field.name];
        if (!into) return null;
        if (field.resolve) into.resolve = field.resolve;
        if (field.subscribe) return null;
      }
      if (type.isTypeOf) copy.isTypeOf = type.isTypeOf;
    } else if (
      (isInterfaceType(type) || isUnionType(type)) &&
      (jitGraphql.isInterfaceType(copy) || jitGraphql.isUnionType(copy))
    ) {
      if (type.resolveType) copy.resolveType = type.resolveType;
    } else if (isScalarType(type) && jitGraphql.isScalarType(copy)) {
      if (isSpecifiedScalarType(type)) continue;
      copy.serialize = type.serialize;
      copy.parseValue = type.parseValue;
      copy.parseLiteral = type.parseLiteral;
    } else if (isEnumType(type)) {
      // Internal enum values live in lookups built with the type: only name = value carries over.
      if (type.getValues().some((value) => value.value !== value.name)) return null;
    }
  }
  const opaque = target.getType(OPAQUE);
  if (!jitGraphql.isScalarType(opaque)) return null;
  opaque.parseValue = (value) => value;
  return target;
}

function compilable(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  if (operation.operation !== 'query') return false;
  let ok = true;
  visit(document, {
    Directive() {
      ok = false;
      return BREAK;
    },
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        ok = false;
        return BREAK;
      }
      return undefined;
    },
    Argument(node: ArgumentNode) {
      if (node.value.kind !== Kind.VARIABLE && holdsVariable(node.value)) {
        ok = false;
        return BREAK;
      }
      return false;
    },
  });
  return ok;
}

function holdsVariable(value: ValueNode): boolean {
  switch (value.kind) {
    case Kind.VARIABLE:
      return true;
    case Kind.LIST:
      return value.values.some(holdsVariable);
    case Kind.OBJECT:
      return value.fields.some((field) => holdsVariable(field.value));
    default:
      return false;
  }
}
