// The contract suite's way to open this adapter against a real namespace: SERVICEBUS_CONNECTION_STRING (with
// Manage rights: the suite creates its own queues), or SERVICEBUS_NAMESPACE with DefaultAzureCredential and
// the Azure Service Bus Data Owner role. In the test process and in child processes.
import { DefaultAzureCredential } from '@azure/identity';
import type { QueueFactory } from '@gpu-jobs/queue/testing';
import { ServiceBusQueue } from './servicebus-queue';

export function serviceBusSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env['SERVICEBUS_CONNECTION_STRING'] || env['SERVICEBUS_NAMESPACE'] || undefined;
}

const open: QueueFactory = async () => {
  const connectionString = process.env['SERVICEBUS_CONNECTION_STRING'];
  const namespace = process.env['SERVICEBUS_NAMESPACE'];
  if (connectionString) return new ServiceBusQueue({ connection: { connectionString }, manageQueues: true });
  if (namespace) {
    return new ServiceBusQueue({
      connection: { fullyQualifiedNamespace: namespace, credential: new DefaultAzureCredential() },
      manageQueues: true,
    });
  }
  throw new Error('set SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE');
};
export default open;
