#!/usr/bin/env node
// Patches four defects of postgres.js 3.4.9 (the driver behind db/client.ts; no release fixes
// them yet) that end or wedge a process when a connection is lost: PostgreSQL restarting or
// shutting down, a terminated backend. test/chaos/service-restarts.test.ts (chaos case 3) found
// them: the worker process died, or its transactions hung, when PostgreSQL restarted mid-sync.
//
//  1. A write scheduled (setImmediate) after its socket closed throws "Cannot read properties of
//     null (reading 'write')" from a timer, out of every try/catch: the process ends. It happens
//     when a transaction's backend dies and `begin` then sends its ROLLBACK
//     (porsager/postgres#1154, #1208). Patched: such a write fails its queries, CONNECTION_CLOSED.
//  2. Closing or terminating a connection cancels its scheduled write but leaves the timer handle
//     set, so that connection object, when the pool reuses it, never flushes a small write again:
//     its queries hang until connect_timeout, again and again (LanternOps/breeze#3225). Patched:
//     the handle and the unsent bytes of the dead socket are cleared with it.
//  3. Every new connection first reads the array types (`fetch_types`) and drops that promise: a
//     connection lost meanwhile is an unhandled rejection, which ends the process
//     (porsager/postgres#1192, #1223). Patched: that failure is left to the connection's own
//     error path, which fails the query waiting for the connection.
//  4. A socket that closes after an error (a reset) fails only the queries sent before the error:
//     one sent in between (that ROLLBACK again) stays queued, and the connection object, reused,
//     pairs the next answers with the wrong queries: transactions hang for good. Patched: every
//     query still waiting on a closed socket fails, however it closed.
//
// Run by `postinstall` (package.json); idempotent. If postgres.js changes these lines (a new
// version), this fails loudly instead of leaving the defects unpatched unnoticed: check whether
// the issues above are fixed upstream, then update or delete this script.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MARKER = 'stash-mirror patch';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const driver = path.join(root, 'node_modules', 'postgres');

const fixes = [
  {
    name: 'write after close',
    find: '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n',
    replace:
      '  function nextWrite(fn) {\n' +
      `    if (!socket) { // ${MARKER} 1: a write scheduled after the socket closed fails its query\n` +
      '      chunk = nextWriteTimer = null\n' +
      "      error(Errors.connection('CONNECTION_CLOSED', options))\n" +
      '      query = null\n' +
      '      return false\n' +
      '    }\n' +
      '    const x = socket.write(chunk, fn)\n',
    count: 1,
  },
  {
    name: 'cancelled write left armed',
    find: '    clearImmediate(nextWriteTimer)\n',
    replace: `    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null // ${MARKER} 2\n`,
    count: 2, // terminate() and closed()
  },
  {
    name: 'queries left waiting on a closed socket',
    find: '    socket.removeAllListeners()\n    socket = null\n\n    if (initial)\n      return reconnect()\n',
    replace:
      '    socket.removeAllListeners()\n' +
      '    socket = null\n' +
      '\n' +
      `    if (stream || query || sent.length) { // ${MARKER} 4: all of them fail, however it closed\n` +
      "      const lost = Errors.connection('CONNECTION_CLOSED', options)\n" +
      '      stream && (stream.destroy(lost), stream = null)\n' +
      '      query && queryError(query, lost)\n' +
      '      while (sent.length) queryError(sent.shift(), lost)\n' +
      '      query = null\n' +
      '    }\n' +
      '\n' +
      '    if (initial)\n' +
      '      return reconnect()\n',
    count: 1,
  },
  {
    name: 'dropped array-types promise',
    find: '        return fetchArrayTypes()\n',
    replace: `        return fetchArrayTypes().catch(() => {}) // ${MARKER} 3\n`,
    count: 1,
  },
];

if (!existsSync(driver)) {
  // Nothing installed to patch (an install that skipped it): nothing to do.
  console.log('patch-postgres: node_modules/postgres not found; nothing to patch');
  process.exit(0);
}

const { version } = JSON.parse(readFileSync(path.join(driver, 'package.json'), 'utf8'));
for (const relative of ['src/connection.js', 'cjs/src/connection.js']) {
  const file = path.join(driver, relative);
  let text = readFileSync(file, 'utf8');
  if (text.includes(MARKER)) continue;
  for (const fix of fixes) {
    const found = text.split(fix.find).length - 1;
    if (found !== fix.count) {
      console.error(
        `patch-postgres: postgres ${version} ${relative}: expected ${fix.count} of the lines "${fix.name}" patches, ` +
          `found ${found}. See scripts/patch-postgres.mjs: check whether the defects are fixed upstream, then update or remove it.`,
      );
      process.exit(1);
    }
    text = text.replaceAll(fix.find, fix.replace);
  }
  writeFileSync(file, text);
  console.log(`patch-postgres: patched postgres ${version} ${relative}`);
}
