/** Every /api route, with a path that reaches its handler (ids that exist or not; validation passes). */
export const API_ROUTES: ReadonlyArray<{ method: string; path: string; body?: unknown }> = [
  { method: 'POST', path: '/api/sync/full', body: {} },
  { method: 'POST', path: '/api/sync/incremental', body: { since: '2025-01-01T00:00:00Z' } },
  { method: 'POST', path: '/api/sync/smart', body: {} },
  { method: 'POST', path: '/api/sync/scene/1' },
  { method: 'GET', path: '/api/sync/status' },
  { method: 'GET', path: '/api/sync/runs' },
  { method: 'GET', path: '/api/sync/runs/some-run' },
  { method: 'POST', path: '/api/sync/runs/some-run/cancel' },
  { method: 'GET', path: '/api/sync/runs/some-run/events' },
  { method: 'GET', path: '/api/sync/schedule' },
  { method: 'PUT', path: '/api/sync/schedule', body: { intervalSeconds: 600 } },
  { method: 'POST', path: '/api/sync/schedule/trigger' },
  { method: 'GET', path: '/api/scenes/1/sync-logs' },
  ...['scenes', 'images', 'galleries', 'performers', 'studios', 'tags', 'groups'].flatMap((type) => [
    { method: 'POST', path: `/api/library/${type}`, body: {} },
    { method: 'GET', path: `/api/library/${type}/1` },
  ]),
];
