import { describeLibrary } from './describe.js';
import { createSimulator, type Simulator, type SimulatorOptions } from './simulator.js';

export interface SimulatorServerOptions extends SimulatorOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface RunningSimulator {
  simulator: Simulator;
  /** Base URL without /graphql, e.g. http://127.0.0.1:9999. */
  url: string;
  /** One-line library summary for a CLI banner. */
  summary: string;
  close(): Promise<void>;
}

/** What `stash-mirror simulate` runs: a generated library served over HTTP. */
export async function startSimulatorServer(options: SimulatorServerOptions = {}): Promise<RunningSimulator> {
  const { port, host, ...simulatorOptions } = options;
  const simulator = createSimulator(simulatorOptions);
  const listening = await simulator.listen({
    ...(port === undefined ? {} : { port }),
    ...(host === undefined ? {} : { host }),
  });
  return { simulator, url: listening.url, summary: describeLibrary(simulator.library), close: listening.close };
}
