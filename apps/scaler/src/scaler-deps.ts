import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Orchestrator } from '@gpu-jobs/orchestrator';
import { ScalerRunner, openPorts, type Ports } from '@gpu-jobs/platform';
import type { Logger } from '@gpu-jobs/telemetry';
import type { HandlerDeps } from './handlers';
import { lanePolicy, type ScalerConfig } from './scaler-config';

/** The lanes to scale: SCALER_LANES, or every lane named in the model registry (weights are not needed here). */
export function scalerLanes(config: ScalerConfig): string[] {
  if (config.SCALER_LANES)
    return config.SCALER_LANES.split(',')
      .map((l) => l.trim())
      .filter(Boolean);
  const registry = JSON.parse(readFileSync(resolve(config.MODEL_REGISTRY), 'utf8')) as { models: { lane: string }[] };
  return [...new Set(registry.models.map((m) => m.lane))];
}

export interface Scaler extends HandlerDeps {
  ports: Ports;
  close(): Promise<void>;
}

/** Opens the ports and the runner for the given orchestrator; one per process (Functions instance or local loop). */
export async function openScaler(config: ScalerConfig, orchestrator: Orchestrator, log: Logger): Promise<Scaler> {
  const lanes = scalerLanes(config);
  const ports = await openPorts(config, lanes);
  const runner = new ScalerRunner({
    queue: ports.queue,
    store: ports.store,
    orchestrator,
    policy: (lane) => lanePolicy(config, lane),
    onDecision: (lane, tier, decision, obs) => {
      const line = { lane, tier, floor: decision.floor, waiting: obs.waiting, inFlight: obs.inFlight, ready: obs.readyWorkers };
      if (decision.changed) log.info(line, decision.reason);
      else log.debug(line, decision.reason);
    },
  });
  return {
    ports,
    runner,
    lanes,
    close: async () => {
      await orchestrator.close();
      await ports.close();
    },
  };
}
