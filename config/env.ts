import { z } from 'zod';

/**
 * The environment, parsed once at start-up and passed down. No other module reads process.env,
 * so every setting is documented here and in docs/configuration.md.
 */
const url = z.url({ message: 'must be a URL such as http://127.0.0.1:9999' });

const hostPort = z
  .string()
  .trim()
  .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7233');

const positiveInt = (fallback: number) =>
  z.coerce
    .number({ message: 'must be a whole number' })
    .int('must be a whole number')
    .positive('must be positive')
    .default(fallback);

export const envSchema = z.object({
  STASH_URL: url.optional(),
  STASH_API_KEY: z.string().optional(),
  /** An unreachable Stash (refused, timing out, 5xx) is retried this long before a run fails readably. */
  STASH_UNAVAILABLE_BUDGET_SECONDS: positiveInt(900).pipe(z.number().max(86_400, 'must be at most 86400')),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /**
   * The API's own connection: a login in the role stash_mirror_api, which cannot write the mirror
   * (docs/readers.md). Unset: the API connects as DATABASE_URL's role (an embedded PostgreSQL's
   * API gets a restricted login of its own).
   */
  API_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().trim().min(1, 'must not be empty').default('default'),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1, 'must not be empty').default('stash-mirror'),
  TEMPORAL_UI_URL: url.optional(),
  /** The fixed workflow id that makes syncs one-at-a-time; distinct per mirror sharing a namespace. */
  SYNC_WORKFLOW_ID: z.string().trim().min(1, 'must not be empty').default('stash-mirror-sync'),
  PORT: z.coerce
    .number({ message: 'must be a port number' })
    .int('must be a port number')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(3000),
  HOST: z.string().trim().min(1).optional(),
  API_TOKEN: z.string().optional(),
  /** POST /api/hooks/stash: a window of hooks closes this long after its last hook. */
  HOOK_WINDOW_MS: positiveInt(1500).pipe(z.number().max(60_000, 'must be at most 60000')),
  /** ...and at the latest this long after its first, however busy the burst. */
  HOOK_MAX_WAIT_MS: positiveInt(10_000).pipe(z.number().max(600_000, 'must be at most 600000')),
  /** More distinct entities than this in one window become one smart sync (0: always a smart sync). */
  HOOK_ENTITY_LIMIT: z.coerce
    .number({ message: 'must be a whole number' })
    .int('must be a whole number')
    .min(0, 'must be between 0 and 1000')
    .max(1000, 'must be between 0 and 1000')
    .default(20),
  SYNC_PAGE_SIZE: positiveInt(500).pipe(z.number().max(5000, 'must be at most 5000')),
  /** Id ranges of scenes, images and galleries walked at once (each its own checkpoint and retry). */
  SYNC_WALK_CONCURRENCY: positiveInt(2).pipe(z.number().max(16, 'must be at most 16')),
  SYNC_MAX_DELETE_SHARE: z.coerce
    .number({ message: 'must be a number between 0 and 1' })
    .min(0, 'must be between 0 and 1')
    .max(1, 'must be between 0 and 1')
    .default(0.5),
  /**
   * Days, fractions allowed: 0.0005 (≈ 43 s) lets a soak of minutes show retention bounding
   * sync_log and sync_runs, where a whole-day minimum never could.
   */
  SYNC_LOG_RETENTION_DAYS: z.coerce
    .number({ message: 'must be a number of days' })
    .positive('must be positive')
    .default(90),
  /** `off`: incremental, smart and single-entity syncs log only changes and failures, not `skipped` rows. */
  SYNC_LOG_SKIPPED: z.enum(['on', 'off'], { message: 'must be on or off' }).default('on'),
  SMART_SYNC_INTERVAL_SECONDS: positiveInt(300),
  /** A cron expression for the smart-sync schedule; overrides the interval when set. */
  SMART_SYNC_CRON: z.string().optional(),
  /** `off` leaves the schedule alone (no create/update at worker start). */
  SMART_SYNC_SCHEDULE: z.enum(['on', 'off'], { message: 'must be on or off' }).default('on'),
  /** How far Stash's clock may run ahead of the worker's (settling the high-water second). */
  SYNC_CLOCK_SKEW_SECONDS: z.coerce.number({ message: 'must be a number of seconds' }).min(0).max(86_400).default(300),
  /** The worker's Prometheus endpoint (GET /metrics); 0 serves none. */
  WORKER_METRICS_PORT: z.coerce
    .number({ message: 'must be a port number' })
    .int('must be a port number')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(9464),
  WORKER_METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  STASH_MIRROR_DATA_DIR: z.string().optional(),
});

export type AppConfig = z.output<typeof envSchema>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming the first bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined>): AppConfig {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(envSchema.shape)) {
    // An empty value means unset (as in most .env conventions).
    const value = env[key]?.trim();
    if (value) input[key] = value;
  }
  const result = envSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const variable = String(issue?.path[0] ?? 'environment');
  throw new ConfigError(variable, issue?.message ?? 'is invalid');
}
