import type { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { SYNC_SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';

/**
 * Registers custom search attributes in a namespace, those missing only; "already exists" (a
 * concurrent registration) is fine. A dev server's `--search-attribute` applies only when its
 * namespace is created, so this runs at every worker start (and before a start that needs them).
 */
export async function registerSearchAttributes(
  connection: Pick<Connection, 'operatorService'>,
  namespace: string,
  attributes: ReadonlyArray<{ name: string; type: SearchAttributeType }> = SYNC_SEARCH_ATTRIBUTES,
): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing: Record<string, NonNullable<ReturnType<typeof encodeSearchAttributeIndexedValueType>>> = {};
  for (const { name, type } of attributes) {
    const encoded = encodeSearchAttributeIndexedValueType(type);
    if (encoded !== undefined && !existing.customAttributes?.[name]) missing[name] = encoded;
  }
  if (Object.keys(missing).length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } catch (error) {
    if (!/already exists/i.test(error instanceof Error ? error.message : String(error))) throw error;
  }
}

/**
 * Whether a start failed because the namespace lacks one of our search attributes. The client
 * wraps the server's answer ("Failed to start Workflow", the gRPC error as its cause), so the
 * whole cause chain is read: the outer message alone never names the attribute.
 */
export function isMissingSearchAttribute(error: unknown): boolean {
  let current: unknown = error;
  // A few levels are all the client nests; the bound only guards against a cause cycle.
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth += 1) {
    const message = current instanceof Error ? current.message : String(current);
    if (/search attribute .* is not defined|no mapping defined for search attribute/i.test(message)) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}
