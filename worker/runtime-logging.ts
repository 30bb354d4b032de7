import { DefaultLogger, type LogLevel, Runtime } from '@temporalio/worker';

const LEVELS: Record<string, LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

/**
 * Sets the Temporal SDK's log level for this process. The runtime can be installed once only,
 * before the first worker or native connection; later calls are ignored.
 */
export function installTemporalLogging(level: string): void {
  try {
    Runtime.install({ logger: new DefaultLogger(LEVELS[level] ?? 'INFO') });
  } catch {
    // Already installed (a second worker in the same process): keep the first setting.
  }
}
