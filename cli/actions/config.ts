import { config as loadDotenv } from 'dotenv';
import { type AppConfig, ConfigError, parseConfig } from '../../config/env.js';
import { EXIT, fail } from '../shared.js';

/** Parses .env (if any) and the environment; a bad value stops the process with one clear line. */
export function loadConfig(): AppConfig {
  loadDotenv({ quiet: true });
  try {
    return parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, EXIT.config);
    throw error;
  }
}
