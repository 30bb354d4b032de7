import { ServiceError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { isMissingSearchAttribute } from '../../temporal/search-attributes.js';

describe('isMissingSearchAttribute', () => {
  it('sees the server’s answer inside the client’s wrapper', () => {
    // What WorkflowClient.start throws on a namespace without our attributes: the gRPC error
    // is the cause of a ServiceError whose own message names nothing.
    const grpc = new Error(
      '3 INVALID_ARGUMENT: Namespace default has no mapping defined for search attribute SyncType',
    );
    expect(isMissingSearchAttribute(new ServiceError('Failed to start Workflow', { cause: grpc }))).toBe(true);
    expect(isMissingSearchAttribute(grpc)).toBe(true);
    expect(isMissingSearchAttribute(new Error('search attribute SyncStatus is not defined'))).toBe(true);
  });

  it('is false for any other failure', () => {
    const other = new Error('14 UNAVAILABLE: No connection established');
    expect(isMissingSearchAttribute(new ServiceError('Failed to start Workflow', { cause: other }))).toBe(false);
    expect(isMissingSearchAttribute('timeout')).toBe(false);
  });
});
