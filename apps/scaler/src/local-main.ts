// The scaler on one machine (`nx serve scaler`, and `npm start`): the same tiers as the Azure Functions app,
// as a plain Node loop, with a pool of local worker processes as the orchestrator.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announceListening, listenError, startOrExit, stopWithParent } from '@gpu-jobs/config';
import type { LaneScale, Orchestrator } from '@gpu-jobs/orchestrator';
import { LocalWorkerPool } from '@gpu-jobs/orchestrator-local';
import { handleDeadLetter, laneBacklog, runEvery } from '@gpu-jobs/platform';
import { createLogger } from '@gpu-jobs/telemetry';
import { loadScalerConfig, type ScalerConfig } from './scaler-config';
import { openScaler, scalerLanes } from './scaler-deps';

const log = createLogger('scaler');

/** One pool per lane behind the one Orchestrator the runner talks to. */
class PoolsByLane implements Orchestrator {
  constructor(readonly pools: Map<string, LocalWorkerPool>) {}
  private pool(lane: string): LocalWorkerPool {
    const p = this.pools.get(lane);
    if (!p) throw new Error(`no worker pool for lane ${lane}`);
    return p;
  }
  read(lane: string): Promise<LaneScale> {
    return this.pool(lane).read(lane);
  }
  write(lane: string, update: { floor: number; state: string }, version: string): Promise<boolean> {
    return this.pool(lane).write(lane, update, version);
  }
  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}

async function main(config: ScalerConfig): Promise<void> {
  const pools = new Map<string, LocalWorkerPool>();
  const orchestrator = new PoolsByLane(pools);
  const scaler = await openScaler(config, orchestrator, log);
  const { ports, runner } = scaler;
  for (const lane of scalerLanes(config)) {
    pools.set(
      lane,
      new LocalWorkerPool({
        lane,
        minWorkers: config.SCALER_MIN_WORKERS,
        maxWorkers: config.SCALER_MAX_WORKERS,
        command: config.SCALER_WORKER_COMMAND.split(' ').filter(Boolean),
        env: { LOG_FORMAT: 'json' },
        waiting: async () => (await laneBacklog(ports.queue, ports.store, lane)).waiting,
        targetWaitingPerWorker: config.SCALER_TARGET_WAITING_PER_WORKER,
        scaleInCooldownMs: config.SCALER_SCALE_IN_COOLDOWN_SECONDS * 1000,
        onOutput: (line) => process.stdout.write(`${line}\n`),
        onEvent: (event) => log.info(event, event.msg),
      }),
    );
  }
  for (const pool of pools.values()) pool.start();

  const loops = [
    runEvery(config.SCALER_REACTIVE_SECONDS * 1000, 'reactive', log, async () => {
      for (const lane of scaler.lanes) await runner.run(lane, 'reactive');
    }),
    runEvery(config.SCALER_BASELINE_SECONDS * 1000, 'baseline', log, async () => {
      for (const lane of scaler.lanes) await runner.run(lane, 'baseline');
    }),
    // the dead-letter handler, as the Functions app's Service Bus trigger does it
    runEvery(5_000, 'dead-letters', log, async () => {
      for (const lane of scaler.lanes) {
        const got = await ports.queue.receive(lane, { maxMessages: 16, maxWaitTimeMs: 0, subQueue: 'deadLetter' });
        for (const m of got) {
          const outcome = await handleDeadLetter(ports.store, m.body, m.deadLetterReason ?? 'DeadLettered', m.deadLetterErrorDescription);
          log.warn({ lane, messageId: m.messageId, outcome, reason: m.deadLetterReason }, 'dead-lettered message handled');
          await ports.queue.complete(m);
        }
      }
    }),
  ];

  // status for people and tests: each lane's workers and floor
  const status = createServer((req, res) => {
    void (async () => {
      const lanes = await Promise.all(
        scaler.lanes.map(async (lane) => ({
          ...(await orchestrator.read(lane)),
          pids: pools.get(lane)?.pids(),
          exited: pools.get(lane)?.exits(),
        })),
      );
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ lanes: lanes.map(({ state: _s, ...rest }) => rest) }));
    })().catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  // a port in use is one clear line naming the variable, not a stack trace
  await new Promise<void>((resolve, reject) => {
    status.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, config.PORT)));
    status.listen(config.PORT, config.HOST, resolve);
  });
  const { port } = status.address() as AddressInfo;
  log.info({ port, lanes: scaler.lanes, min: config.SCALER_MIN_WORKERS, max: config.SCALER_MAX_WORKERS }, 'scaler listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: draining workers');
    await Promise.all(loops.map((l) => l.stop()));
    status.close();
    await scaler.close();
    process.exit(0);
  };
  announceListening('scaler', port);
  stopWithParent((why) => void stop(why));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

await startOrExit(log, 'scaler', loadScalerConfig, main);
