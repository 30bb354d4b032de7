import type { LibraryEntity } from './definition.js';
import type { AllRows } from './find.js';

/**
 * `{ "<queryField>": { "count": N, "<listField>": [ … ] } }` written as the rows are read, one
 * batch per chunk: the first bytes go out at once and memory holds a batch or two, however many
 * rows match. Byte for byte what `c.json` would have written for the whole answer.
 *
 * A failure after the first bytes cannot become an error status any more: the stream errors,
 * and the HTTP server then destroys the connection without the final chunk, so a client sees an
 * aborted response rather than a short list that looks complete. A client that goes away
 * cancels the stream: no further batch is read.
 */
export function streamAll(
  entity: LibraryEntity,
  all: AllRows,
  onError: (error: unknown) => void,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let first = true;
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const head = `{${JSON.stringify(entity.queryField)}:{"count":${all.count},${JSON.stringify(entity.listField)}:[`;
      controller.enqueue(encoder.encode(head));
    },
    async pull(controller) {
      try {
        const batch = await all.next();
        if (cancelled) return;
        if (batch === null) {
          controller.enqueue(encoder.encode(']}}'));
          controller.close();
          return;
        }
        const items = batch.map((item) => JSON.stringify(item)).join(',');
        controller.enqueue(encoder.encode(first ? items : `,${items}`));
        first = false;
      } catch (error) {
        if (cancelled) return;
        onError(error);
        // The HTTP server reports a stream's error on stderr too: the details are in onError's log line.
        controller.error(new Error('library stream aborted after a failure; see the log'));
      }
    },
    cancel() {
      cancelled = true;
    },
  });
}
