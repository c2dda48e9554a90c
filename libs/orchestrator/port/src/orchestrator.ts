/**
 * The orchestrator port: where a lane's workers run. The scaler reads a lane's workers and its floor, and
 * writes a new floor together with its own state, only if nobody wrote since it read (optimistic
 * concurrency: Kubernetes' resourceVersion, or the local pool's counter), so two scaler runs never fight.
 */
export interface LaneScale {
  lane: string;
  readyWorkers: number;
  /** Started but not ready yet (pulling the image, loading the model). */
  startingWorkers: number;
  /** The minimum replicas (KEDA's minReplicaCount) now in force. */
  floor: number;
  maxReplicas: number;
  /** The scaler's state kept with the lane (JSON), undefined before its first run. */
  state?: string;
  /** What write() must be given back. */
  version: string;
}

export interface Orchestrator {
  read(lane: string): Promise<LaneScale>;
  /** Sets floor and state if the lane is still at `version`; false when another writer came first. */
  write(lane: string, update: { floor: number; state: string }, version: string): Promise<boolean>;
  close(): Promise<void>;
}
