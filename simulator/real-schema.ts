import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildSchema,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
} from 'graphql';

/** Where Stash's own schema lives: $STASH_SCHEMA_DIR, else ../shared/stash-schema beside the repo. */
export function realStashSchemaDir(): string {
  return process.env.STASH_SCHEMA_DIR ?? fileURLToPath(new URL('../../shared/stash-schema/', import.meta.url));
}

let cached: GraphQLSchema | null | undefined;

/** Stash's real schema (all .graphql files concatenated), or null when the files are absent. */
export function loadRealStashSchema(): GraphQLSchema | null {
  if (cached !== undefined) return cached;
  const dir = realStashSchemaDir();
  if (!existsSync(dir)) {
    cached = null;
    return cached;
  }
  const files = listGraphqlFiles(dir).sort();
  cached = files.length === 0 ? null : buildSchema(files.map((f) => readFileSync(f, 'utf8')).join('\n'));
  return cached;
}

function listGraphqlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listGraphqlFiles(path));
    else if (name.endsWith('.graphql')) out.push(path);
  }
  return out;
}

/**
 * Differences that would make `subset` accept something `full` rejects (or answer with other
 * types): missing types/fields/arguments/input fields/enum values/union members, different type
 * references, and required arguments or input fields of `full` that `subset` lacks.
 */
export function schemaSubsetProblems(subset: GraphQLSchema, full: GraphQLSchema): string[] {
  const problems: string[] = [];
  for (const type of Object.values(subset.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    const real = full.getType(type.name);
    if (!real) {
      problems.push(`type ${type.name} does not exist in the real schema`);
      continue;
    }
    if (kindOf(type) !== kindOf(real)) {
      problems.push(`type ${type.name} is a ${kindOf(type)} here but a ${kindOf(real)} in the real schema`);
      continue;
    }
    if ((isObjectType(type) || isInterfaceType(type)) && (isObjectType(real) || isInterfaceType(real))) {
      const realFields = real.getFields();
      for (const field of Object.values(type.getFields())) {
        const realField = realFields[field.name];
        if (!realField) {
          problems.push(`field ${type.name}.${field.name} does not exist in the real schema`);
          continue;
        }
        if (String(field.type) !== String(realField.type)) {
          problems.push(
            `field ${type.name}.${field.name} is ${String(field.type)} here but ${String(realField.type)} in the real schema`,
          );
        }
        compareArgs(`${type.name}.${field.name}`, field, realField, problems);
      }
      const realInterfaces = new Set(real.getInterfaces().map((i) => i.name));
      for (const iface of type.getInterfaces()) {
        if (!realInterfaces.has(iface.name))
          problems.push(`type ${type.name} does not implement ${iface.name} in the real schema`);
      }
    } else if (isInputObjectType(type) && isInputObjectType(real)) {
      const realFields = real.getFields();
      for (const field of Object.values(type.getFields())) {
        const realField = realFields[field.name];
        if (!realField) problems.push(`input field ${type.name}.${field.name} does not exist in the real schema`);
        else if (String(field.type) !== String(realField.type)) {
          problems.push(
            `input field ${type.name}.${field.name} is ${String(field.type)} here but ${String(realField.type)} in the real schema`,
          );
        }
      }
      const mine = type.getFields();
      for (const realField of Object.values(realFields)) {
        if (isNonNullType(realField.type) && realField.defaultValue === undefined && !mine[realField.name]) {
          problems.push(`required input field ${type.name}.${realField.name} is missing here`);
        }
      }
    } else if (isEnumType(type) && isEnumType(real)) {
      const realValues = new Set(real.getValues().map((v) => v.name));
      for (const value of type.getValues()) {
        if (!realValues.has(value.name))
          problems.push(`enum value ${type.name}.${value.name} does not exist in the real schema`);
      }
    } else if (isUnionType(type) && isUnionType(real)) {
      const realMembers = new Set(real.getTypes().map((t) => t.name));
      for (const member of type.getTypes()) {
        if (!realMembers.has(member.name))
          problems.push(`union ${type.name} has no member ${member.name} in the real schema`);
      }
    }
  }
  for (const [root, real] of [
    [subset.getQueryType(), full.getQueryType()],
    [subset.getMutationType(), full.getMutationType()],
  ] as const) {
    if (root && real && root.name !== real.name)
      problems.push(`root type ${root.name} is ${real.name} in the real schema`);
  }
  return problems;
}

function compareArgs(
  where: string,
  field: GraphQLField<unknown, unknown>,
  realField: GraphQLField<unknown, unknown>,
  problems: string[],
): void {
  const realArgs = new Map<string, GraphQLArgument>(realField.args.map((a) => [a.name, a]));
  for (const arg of field.args) {
    const realArg = realArgs.get(arg.name);
    if (!realArg) problems.push(`argument ${where}(${arg.name}) does not exist in the real schema`);
    else if (String(arg.type) !== String(realArg.type)) {
      problems.push(
        `argument ${where}(${arg.name}) is ${String(arg.type)} here but ${String(realArg.type)} in the real schema`,
      );
    }
  }
  const mine = new Set(field.args.map((a) => a.name));
  for (const realArg of realField.args) {
    if (isNonNullType(realArg.type) && realArg.defaultValue === undefined && !mine.has(realArg.name)) {
      problems.push(`required argument ${where}(${realArg.name}) is missing here`);
    }
  }
}

function kindOf(type: GraphQLNamedType): string {
  if (isScalarType(type)) return 'scalar';
  if (isObjectType(type)) return 'object';
  if (isInterfaceType(type)) return 'interface';
  if (isUnionType(type)) return 'union';
  if (isEnumType(type)) return 'enum';
  return 'input';
}
