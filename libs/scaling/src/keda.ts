import type { LanePolicy } from './policy';

export interface KedaTriggerSettings {
  minReplicaCount: number;
  maxReplicaCount: number;
  pollingInterval: number;
  cooldownPeriod: number;
  triggers: {
    type: 'azure-servicebus';
    metadata: { queueName: string; namespace: string; messageCount: string; activationMessageCount: string };
    authenticationRef: { name: string };
  }[];
}

/**
 * Tier 1 is KEDA: it scales the lane's worker Deployment on the Service Bus queue's depth within seconds.
 * These are the ScaledObject settings it needs: `messageCount` is the target messages per replica, activation
 * at one message (a lane at zero wakes on its first job), polling every 15 s, and a scale-in cooldown long
 * enough that the floor the scaler sets (tiers 2 and 3) is what holds workers, not KEDA's own timer.
 */
export function kedaSettings(
  lane: string,
  namespace: string,
  policy: LanePolicy,
  authName = 'servicebus-workload-identity',
): KedaTriggerSettings {
  return {
    minReplicaCount: policy.minReplicas,
    maxReplicaCount: policy.maxReplicas,
    pollingInterval: 15,
    cooldownPeriod: 300,
    triggers: [
      {
        type: 'azure-servicebus',
        metadata: {
          queueName: lane,
          namespace,
          messageCount: String(policy.targetMessagesPerWorker * policy.jobsPerWorker),
          activationMessageCount: '0',
        },
        authenticationRef: { name: authName },
      },
    ],
  };
}

/** KEDA's own desired replicas for a queue depth and the floor the scaler set (tier 1 between the scaler's runs). */
export function kedaDesired(
  waiting: number,
  floor: number,
  policy: Pick<LanePolicy, 'targetMessagesPerWorker' | 'jobsPerWorker' | 'minReplicas' | 'maxReplicas'>,
): number {
  const perReplica = Math.max(1, policy.targetMessagesPerWorker * policy.jobsPerWorker);
  return Math.min(policy.maxReplicas, Math.max(floor, policy.minReplicas, Math.ceil(waiting / perReplica)));
}
