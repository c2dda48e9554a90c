import { ConfigError } from './parse-env';

interface FatalLogger {
  fatal(obj: object, msg: string): void;
  fatal(msg: string): void;
}

/**
 * Runs an app's start-up. With `--check-config` it only parses the configuration (DEPLOYMENT_PROFILE=cloud
 * included), prints `configuration ok` and exits 0, or reports the problems and exits 1: a release can check an
 * environment against the app itself before rolling it out.
 * A configuration error is logged as its plain message (it names the variables);
 * anything else by name and message only, never with the values involved; either way the process exits 1.
 */
export async function startOrExit<C>(
  log: FatalLogger,
  service: string,
  loadConfig: () => C,
  main: (config: C) => Promise<void>,
): Promise<void> {
  try {
    if (process.argv.includes('--check-config')) {
      loadConfig();
      process.stdout.write(`${service}: configuration ok\n`);
      process.exit(0);
    }
    await main(loadConfig());
  } catch (err) {
    if (err instanceof ConfigError) log.fatal(err.message);
    else log.fatal({ errorName: (err as Error).name, errorMessage: (err as Error).message }, `the ${service} could not start`);
    process.exit(1);
  }
}
