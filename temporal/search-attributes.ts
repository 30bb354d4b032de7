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

/** Whether a start failed because the namespace lacks one of our search attributes. */
export function isMissingSearchAttribute(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /search attribute .* is not defined|no mapping defined for search attribute/i.test(message);
}
