import { ConfigError } from './parse-env';

interface FatalLogger {
  fatal(obj: object, msg: string): void;
  fatal(msg: string): void;
}

/**
 * Runs an app's start-up. A configuration error is logged as its plain message (it names the variables);
 * anything else by name and message only, never with the values involved; either way the process exits 1.
 */
export async function startOrExit<C>(
  log: FatalLogger,
  service: string,
  loadConfig: () => C,
  main: (config: C) => Promise<void>,
): Promise<void> {
  try {
    await main(loadConfig());
  } catch (err) {
    if (err instanceof ConfigError) log.fatal(err.message);
    else log.fatal({ errorName: (err as Error).name, errorMessage: (err as Error).message }, `the ${service} could not start`);
    process.exit(1);
  }
}
