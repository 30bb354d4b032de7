// The status page's behaviour: fills the sections from /api, follows the running sync over its
// event stream, and wires the buttons. Markup: api/status-page/page.ts.
import { api, getToken, setToken, streamEvents, Unauthorized, whenUnauthorized } from './api.js';
import { el, externalLink, fillRows, formatDuration, formatNumber, formatTime, secondsSince } from './dom.js';

const $ = (id) => document.getElementById(id);
const ENTITY_TYPES = document.body.dataset.entityTypes.split(' ');
/** Each type's plural (its library and history routes), from the history form's options. */
const PLURALS = Object.fromEntries(
  [...$('history-type').options].map((option) => [option.value, option.dataset.plural]),
);
const POLL_MS = 5000;
const RUNS_SHOWN = 10;
const PHASES = { pending: 'waiting', walk: 'reading', catchup: 'catching up', done: 'done', reading: 'reading' };

const page = {
  /** Rows per type in the mirror when a full sync was first shown: its walk reads about as many. */
  estimates: { runId: null, counts: {} },
  /** The run whose event stream is open: `{ runId, controller }`. */
  watching: null,
  /** The run the current-run section shows, and its per-type rows. */
  shown: null,
  schedule: null,
};

function notice(text, kind = 'info') {
  const element = $('notice');
  element.textContent = text;
  element.className = text ? kind : '';
}

function describeError(error) {
  return error instanceof Error ? error.message : String(error);
}

/** Runs an action; a 401 has already shown the token form, anything else becomes a notice. */
async function guarded(work) {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof Unauthorized)) notice(`Could not reach the API: ${describeError(error)}`, 'error');
  }
}

// ---- the current run -------------------------------------------------------------------------

function runTitle(run) {
  return `${run.type[0].toUpperCase()}${run.type.slice(1)} sync`;
}

/**
 * A full sync's walk reads every row of a type: its bar fills towards the mirror's count. Other
 * syncs read an unknown share: their bars stay indeterminate until the type is done. Catch-up
 * (the rows changed during the walk) comes after a full bar.
 */
async function loadEstimates(run) {
  if (run.type !== 'full' || page.estimates.runId === run.id) return;
  page.estimates = { runId: run.id, counts: {} };
  const counts = {};
  await Promise.all(
    ENTITY_TYPES.map(async (type) => {
      const { status, body } = await api('POST', `api/library/${PLURALS[type]}`, { filter: { per_page: 0 } });
      const found = status === 200 && body ? Object.values(body)[0] : null;
      if (typeof found?.count === 'number') counts[type] = found.count;
    }),
  );
  if (page.estimates.runId === run.id) page.estimates.counts = counts;
}

/** One type's bar and its line of text. */
function typeProgress(type, run, live) {
  const counts = run.counts?.[type] ?? {};
  const liveType = live?.progress?.types?.[type];
  const fetched = Math.max(counts.fetched ?? 0, liveType?.fetched ?? 0);
  const pages = Math.max(liveType?.pages ?? 0, run.progress?.[`pages:${type}`] ?? 0);
  let phase = liveType?.phase;
  if (!phase) phase = run.status !== 'running' ? 'done' : fetched > 0 ? 'reading' : 'pending';
  const known = page.estimates.runId === run.id ? page.estimates.counts[type] : undefined;
  // A mirror with fewer rows than the walk has read already (a first sync) gives no estimate.
  const estimate = known && known >= fetched ? known : undefined;
  const walking = phase === 'walk' || phase === 'reading';
  let value = 0;
  let max = 1;
  if (phase === 'done' || phase === 'catchup') value = max;
  else if (estimate) [value, max] = [fetched, estimate];
  else if (walking) value = null; // indeterminate: no total to fill towards
  const parts = [
    walking && estimate ? `${formatNumber(fetched)} of ~${formatNumber(estimate)}` : `${formatNumber(fetched)} read`,
  ];
  parts.push(`${formatNumber(pages)} ${pages === 1 ? 'page' : 'pages'}`, PHASES[phase] ?? phase);
  if (counts.created) parts.push(`${formatNumber(counts.created)} new`);
  if (counts.updated) parts.push(`${formatNumber(counts.updated)} changed`);
  if (counts.deleted) parts.push(`${formatNumber(counts.deleted)} deleted`);
  if (counts.failed) parts.push(`${formatNumber(counts.failed)} failed`);
  return { value, max, text: parts.join(' · '), active: live?.progress?.activeTypes?.includes(type) ?? false };
}

/** The section's skeleton for a run (built once per run, then updated in place). */
function buildRunView(run) {
  const rows = {};
  const bars = el('div', { className: 'bars' });
  for (const type of ENTITY_TYPES) {
    const bar = el('progress', { className: 'type-bar', 'data-type': type, 'aria-label': `${type} progress` });
    const text = el('span', { className: 'type-text' });
    const row = el(
      'div',
      { className: 'type-row', 'data-type': type },
      el('span', { className: 'type-name' }, type),
      bar,
      text,
    );
    rows[type] = { row, bar, text };
    bars.append(row);
  }
  const cancel = el('button', { type: 'button', className: 'danger' }, 'Cancel run');
  cancel.addEventListener('click', () => cancelRun(run));
  const heading = el('p', { className: 'run-heading' });
  const extra = el('p', { className: 'muted' });
  $('current-run').replaceChildren(heading, bars, extra);
  page.shown = { runId: run.id, rows, heading, extra, cancel };
  guarded(() => loadEstimates(run));
  return page.shown;
}

function renderRun(run, live) {
  const view = page.shown?.runId === run.id ? page.shown : buildRunView(run);
  const running = run.status === 'running';
  const took = running
    ? `running for ${formatDuration(secondsSince(run.startedAt))}`
    : `took ${formatDuration(run.durationSeconds)}`;
  const phase = live?.progress?.phase ?? run.progress?.phase;
  view.heading.replaceChildren(
    el('strong', {}, runTitle(run)),
    ` · ${run.trigger} · started ${formatTime(run.startedAt)} · `,
    el('span', { className: `status status-${run.status}`, 'data-status': run.status }, run.status),
    phase && running ? ` · ${phase}` : '',
    ` · ${took} · `,
    externalLink(run.temporalUiUrl, 'open in Temporal UI'),
    ' ',
    running ? view.cancel : '',
  );
  view.heading.dataset.runId = run.id;
  for (const type of ENTITY_TYPES) {
    const { row, bar, text } = view.rows[type];
    const progress = typeProgress(type, run, live);
    bar.max = progress.max;
    if (progress.value === null) bar.removeAttribute('value');
    else bar.value = progress.value;
    text.textContent = progress.text;
    row.classList.toggle('active', progress.active);
  }
  const errors = [run.error, ...(live?.progress?.errors ?? [])].filter(Boolean);
  view.extra.textContent = errors.length ? `Errors: ${errors.join(' · ')}` : '';
}

function renderIdle(lastRun, entitySyncs) {
  page.shown = null;
  const lines = [el('p', {}, 'No sync is running.')];
  if (lastRun) {
    lines.push(
      el(
        'p',
        { className: 'muted' },
        `Last: ${runTitle(lastRun)} (${lastRun.trigger}) `,
        el('span', { className: `status status-${lastRun.status}` }, lastRun.status),
        ` ${formatTime(lastRun.completedAt)}, took ${formatDuration(lastRun.durationSeconds)}.`,
      ),
    );
  }
  if (entitySyncs.length)
    lines.push(el('p', { className: 'muted' }, `Single-entity syncs running: ${entitySyncs.length}`));
  $('current-run').replaceChildren(...lines);
}

/** Follows a run's event stream (one at a time); the stream's `end` refreshes everything. */
function watch(runId) {
  if (page.watching?.runId === runId) return;
  page.watching?.controller.abort();
  const controller = new AbortController();
  page.watching = { runId, controller };
  const path = `api/sync/runs/${encodeURIComponent(runId)}/events`;
  streamEvents(
    path,
    (event, data) => {
      if (event !== 'progress' && event !== 'end') return;
      renderRun(data.run, data.live ?? null);
      replaceRunRow(data.run);
      if (event === 'end') refresh();
    },
    controller.signal,
  )
    .catch((error) => {
      if (!controller.signal.aborted && !(error instanceof Unauthorized))
        notice(`Live progress stopped: ${describeError(error)}`, 'error');
    })
    .finally(() => {
      if (page.watching?.controller === controller) page.watching = null;
    });
}

async function cancelRun(run) {
  if (!window.confirm(`Cancel ${runTitle(run).toLowerCase()} ${run.id}? Committed pages stay; the next sync resumes.`))
    return;
  await guarded(async () => {
    const { status, body } = await api('POST', `api/sync/runs/${encodeURIComponent(run.id)}/cancel`);
    notice(
      status === 202 ? 'Cancelling the run…' : (body?.error ?? `cancel answered ${status}`),
      status === 202 ? 'info' : 'error',
    );
  });
}

// ---- the last runs ---------------------------------------------------------------------------

function runRow(run) {
  const totals = run.totals ?? {};
  const number = (value) => el('td', { className: 'num' }, formatNumber(value ?? 0));
  const duration = run.status === 'running' ? secondsSince(run.startedAt) : run.durationSeconds;
  return el(
    'tr',
    {
      'data-run-id': run.id,
      'data-status': run.status,
      'data-trigger': run.trigger,
      'data-type': run.type,
      title: run.error ?? run.id,
    },
    el('td', {}, formatTime(run.startedAt)),
    el('td', {}, run.type),
    el('td', {}, run.trigger),
    el('td', {}, el('span', { className: `status status-${run.status}` }, run.status)),
    el('td', { className: 'num' }, formatDuration(duration)),
    number(totals.fetched),
    number(totals.created),
    number(totals.updated),
    number(totals.deleted),
    number(totals.failed),
    el('td', {}, externalLink(run.temporalUiUrl, 'Temporal ↗')),
  );
}

/** Keeps the followed run's row in the list as fresh as its event stream. */
function replaceRunRow(run) {
  const row = [...$('runs').tBodies[0].rows].find((candidate) => candidate.dataset.runId === run.id);
  row?.replaceWith(runRow(run));
}

async function loadRuns() {
  const { body } = await api('GET', `api/sync/runs?per_page=${RUNS_SHOWN}`);
  const rows = (body?.runs ?? []).map(runRow);
  if (!rows.length)
    rows.push(el('tr', {}, el('td', { colSpan: 11, className: 'muted' }, 'No runs yet: start one above.')));
  fillRows($('runs').tBodies[0], rows);
}

// ---- status: the running sync, per-type state, the schedule ----------------------------------

/** A type's sync_state; a resume cursor means "being read" while a sync runs, "will resume" otherwise. */
function stateRow(entry, syncRunning) {
  let resume = entry.interrupted ? 'yes: the next sync of that kind resumes there' : 'no';
  if (syncRunning) resume = entry.interrupted ? 'being read now' : '—';
  return el(
    'tr',
    { 'data-type': entry.entityType },
    el('td', {}, entry.entityType),
    el('td', {}, entry.highWaterMark ?? '—'),
    el('td', {}, formatTime(entry.lastFullSyncAt)),
    el('td', {}, formatTime(entry.lastIncrementalSyncAt)),
    el('td', {}, resume),
  );
}

function renderSchedule(schedule) {
  page.schedule = schedule;
  for (const id of ['schedule-pause', 'schedule-resume', 'schedule-trigger']) $(id).hidden = !schedule;
  if (!schedule) {
    $('schedule').replaceChildren(
      el(
        'p',
        { className: 'muted' },
        'No smart-sync schedule (or Temporal did not answer). Saving an interval creates it.',
      ),
    );
    return;
  }
  $('schedule-pause').hidden = schedule.paused;
  $('schedule-resume').hidden = !schedule.paused;
  const spec = schedule.cron ? `cron ${schedule.cron}` : `every ${formatDuration(schedule.intervalSeconds)}`;
  const next = schedule.paused ? 'paused' : `next ${formatTime(schedule.nextRuns[0])}`;
  $('schedule').replaceChildren(
    el(
      'p',
      { 'data-paused': String(schedule.paused) },
      el('strong', {}, `Smart sync ${spec}`),
      ` · ${next} · ${schedule.scheduleId}`,
    ),
  );
  const input = $('schedule-interval');
  if (document.activeElement !== input && !input.dataset.dirty) input.value = schedule.intervalSeconds ?? '';
}

async function loadStatus() {
  const { body } = await api('GET', 'api/sync/status');
  if (!body) return;
  $('temporal-warning').hidden = body.temporalReachable;
  const entities = [...body.entities].sort(
    (a, b) => ENTITY_TYPES.indexOf(a.entityType) - ENTITY_TYPES.indexOf(b.entityType),
  );
  fillRows(
    $('state').tBodies[0],
    entities.map((entry) => stateRow(entry, body.running !== null)),
  );
  renderSchedule(body.schedule);
  if (body.running) {
    renderRun(body.running.run, body.running.live);
    if (body.running.run.status === 'running') watch(body.running.run.id);
  } else if (!page.watching) {
    renderIdle(body.lastRun, body.runningEntitySyncs);
  }
}

let refreshing = null;
let again = false;

/** Reloads status and runs; a call during a reload makes it run once more afterwards. */
function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = guarded(() => Promise.all([loadStatus(), loadRuns()])).finally(() => {
    refreshing = null;
    if (again) {
      again = false;
      refresh();
    }
  });
  return refreshing;
}

/** After an action: refresh now and a few times soon, so a run the action started shows up. */
function refreshSoon() {
  for (const delay of [0, 500, 1500, 3000, 6000]) setTimeout(refresh, delay);
}

// ---- actions ---------------------------------------------------------------------------------

async function startSync(kind) {
  await guarded(async () => {
    const { status, body } = await api('POST', `api/sync/${kind}`, {});
    if (status === 202) {
      notice(`${kind === 'full' ? 'Full' : 'Smart'} sync started: ${body.runId}`);
      watch(body.runId);
    } else if (status === 409) {
      notice(`Another sync is already running (${body.runningRunId ?? 'unknown run'}).`, 'warning');
    } else notice(body?.error ?? `the API answered ${status}`, 'error');
    refreshSoon();
  });
}

async function changeSchedule(change, done) {
  await guarded(async () => {
    const { status, body } = await api('PUT', 'api/sync/schedule', change);
    if (status !== 200) return notice(body?.error ?? `the API answered ${status}`, 'error');
    renderSchedule(body);
    notice(done);
  });
}

async function triggerSchedule() {
  await guarded(async () => {
    const { status, body } = await api('POST', 'api/sync/schedule/trigger');
    if (status === 202) notice('Smart sync triggered through the schedule.');
    else if (status === 409) notice(`Another sync is already running (${body.runningRunId}).`, 'warning');
    else notice(body?.error ?? `the API answered ${status}`, 'error');
    refreshSoon();
  });
}

// ---- an entity's history ---------------------------------------------------------------------

function historyRow(log) {
  let details = '';
  if (log.error) details = log.error;
  else if (log.changedFields?.length) details = `changed: ${log.changedFields.join(', ')}`;
  else if (log.runWide && log.details) details = `whole type: ${formatNumber(log.details.fetched)} read`;
  return el(
    'tr',
    { 'data-change': log.changeType },
    el('td', {}, formatTime(log.createdAt)),
    el('td', {}, log.syncType),
    el('td', {}, log.changeType),
    el('td', {}, details),
    el('td', { title: log.runId }, log.run ? `${log.run.type} · ${log.run.status}` : log.runId),
  );
}

async function showHistory(event) {
  event.preventDefault();
  const option = $('history-type').selectedOptions[0];
  const id = $('history-id').value.trim();
  await guarded(async () => {
    const { status, body } = await api(
      'GET',
      `api/${option.dataset.plural}/${encodeURIComponent(id)}/sync-logs?limit=50`,
    );
    const table = $('history');
    if (status !== 200) {
      table.hidden = true;
      $('history-note').textContent = body?.error ?? `the API answered ${status}`;
      return;
    }
    $('history-note').textContent = `${option.value} ${id}: ${body.logs.length} entries, newest first`;
    fillRows(table.tBodies[0], body.logs.map(historyRow));
    table.hidden = false;
  });
}

// ---- the API token ---------------------------------------------------------------------------

function showTokenState() {
  $('token-state').hidden = !getToken();
}

function askForToken() {
  const form = $('token-form');
  if (!form.hidden) return;
  form.hidden = false;
  notice(
    getToken() ? 'The server refused the API token: enter it again.' : 'Enter the API token to continue.',
    'warning',
  );
  $('token-input').focus();
}

function useToken(event) {
  event.preventDefault();
  setToken($('token-input').value.trim());
  $('token-input').value = '';
  $('token-form').hidden = true;
  notice('');
  showTokenState();
  refresh();
}

// ---- wiring ----------------------------------------------------------------------------------

whenUnauthorized(askForToken);
$('token-form').addEventListener('submit', useToken);
$('token-forget').addEventListener('click', () => {
  setToken(null);
  showTokenState();
  refresh();
});
$('start-full').addEventListener('click', () => startSync('full'));
$('start-smart').addEventListener('click', () => startSync('smart'));
$('schedule-pause').addEventListener('click', () => changeSchedule({ paused: true }, 'Schedule paused.'));
$('schedule-resume').addEventListener('click', () => changeSchedule({ paused: false }, 'Schedule resumed.'));
$('schedule-trigger').addEventListener('click', triggerSchedule);
$('schedule-interval').addEventListener('input', (event) => {
  event.target.dataset.dirty = 'yes';
});
$('schedule-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('schedule-interval');
  delete input.dataset.dirty;
  changeSchedule({ intervalSeconds: Number(input.value) }, 'Schedule saved.');
});
$('history-form').addEventListener('submit', showHistory);

showTokenState();
refresh();
setInterval(refresh, POLL_MS);
