import { ENTITY_TABLES, ENTITY_TYPES } from '../../stash/entity-types.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an HTML element or a quoted attribute. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

/**
 * The status page's markup. It holds no data (so it loads without the API token): the script
 * (assets/status.js) fills it from the /api routes and asks for the token when they answer 401.
 * The only server-side values are the seven entity types, escaped like anything else would be.
 */
export function statusPageHtml(): string {
  const options = ENTITY_TYPES.map(
    (type) =>
      `<option value="${escapeHtml(type)}" data-plural="${escapeHtml(ENTITY_TABLES[type])}">${escapeHtml(type)}</option>`,
  ).join('');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>stash-mirror status</title>
  <link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="status/assets/status.css">
  <script type="module" src="status/assets/status.js"></script>
</head>
<body data-entity-types="${escapeHtml(ENTITY_TYPES.join(' '))}">
  <header>
    <h1>stash-mirror</h1>
    <nav><a href="docs">API docs</a> · <a href="metrics">metrics</a></nav>
    <span id="token-state" hidden>API token set · <button type="button" id="token-forget">forget</button></span>
  </header>
  <noscript><p class="warning">This page needs JavaScript. The same data is in the API: see <a href="docs">/docs</a>.</p></noscript>

  <form id="token-form" hidden>
    <p>This server needs its API token (<code>API_TOKEN</code>). It is kept in this tab only (sessionStorage).</p>
    <label>API token <input id="token-input" type="password" autocomplete="off" required></label>
    <button type="submit">Use token</button>
  </form>

  <p id="notice" role="status" aria-live="polite"></p>
  <p id="temporal-warning" class="warning" hidden>
    Temporal does not answer: runs cannot start, and progress comes from the database.
  </p>

  <section id="current" aria-labelledby="current-title">
    <h2 id="current-title">Current run</h2>
    <div class="actions">
      <button type="button" id="start-full">Start full sync</button>
      <button type="button" id="start-smart">Start smart sync</button>
    </div>
    <div id="current-run"><p class="muted">Loading…</p></div>
  </section>

  <section aria-labelledby="schedule-title">
    <h2 id="schedule-title">Smart-sync schedule</h2>
    <div id="schedule"><p class="muted">Loading…</p></div>
    <div class="actions">
      <button type="button" id="schedule-pause" hidden>Pause</button>
      <button type="button" id="schedule-resume" hidden>Resume</button>
      <button type="button" id="schedule-trigger" hidden>Sync now</button>
    </div>
    <form id="schedule-form" class="inline-form">
      <label>Every <input id="schedule-interval" type="number" min="10" step="1" placeholder="300" required> seconds</label>
      <button type="submit">Save interval</button>
    </form>
  </section>

  <section aria-labelledby="runs-title">
    <h2 id="runs-title">Last runs</h2>
    <table id="runs">
      <thead><tr><th>Started</th><th>Type</th><th>Trigger</th><th>Outcome</th><th>Duration</th>
        <th>Fetched</th><th>Created</th><th>Updated</th><th>Deleted</th><th>Failed</th><th>Temporal</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section aria-labelledby="state-title">
    <h2 id="state-title">Sync state per type</h2>
    <table id="state">
      <thead><tr><th>Type</th><th>High-water mark</th><th>Last full sync</th><th>Last smart / incremental</th>
        <th>Resume point</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section aria-labelledby="history-title">
    <h2 id="history-title">An entity's sync history</h2>
    <form id="history-form" class="inline-form">
      <label>Entity type <select id="history-type">${options}</select></label>
      <label>Entity id <input id="history-id" inputmode="numeric" pattern="[0-9]+" required></label>
      <button type="submit">Show history</button>
    </form>
    <p id="history-note" class="muted"></p>
    <table id="history" hidden>
      <thead><tr><th>When</th><th>Sync</th><th>Change</th><th>Details</th><th>Run</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</body>
</html>
`;
}
