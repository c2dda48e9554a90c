// What each principal does on Azure's data planes, call by call, and what each role allows. The grants in
// stack.ts are written by hand; access.test.ts holds them against this table under Pulumi's mocks: every call is
// allowed by a grant on its resource, every grant is needed by some call, and no smaller role would do.
import type { ROLES } from './config';
import type { AppName } from './components/identity';

/** The permissions a call needs, at the granularity Azure's built-in roles split them. */
export type Claim =
  | 'servicebus/send'
  | 'servicebus/listen'
  | 'servicebus/manage'
  | 'blob/read'
  | 'blob/write'
  | 'blob/delete'
  | 'blob/delegation-key'
  | 'keyvault/secret-read'
  | 'aks/user-credential'
  | 'aks/scaledobjects'
  | 'monitor/publish';

export type RoleName = keyof typeof ROLES | 'scaledObjectEditor';

/** What each role the program grants allows (from the built-in roles' actions and data actions). */
export const ROLE_CLAIMS: Partial<Record<RoleName, readonly Claim[]>> = {
  serviceBusDataSender: ['servicebus/send'],
  serviceBusDataReceiver: ['servicebus/listen'],
  serviceBusDataOwner: ['servicebus/send', 'servicebus/listen', 'servicebus/manage'],
  storageBlobDataReader: ['blob/read'],
  storageBlobDataContributor: ['blob/read', 'blob/write', 'blob/delete'],
  storageBlobDelegator: ['blob/delegation-key'],
  keyVaultSecretsUser: ['keyvault/secret-read'],
  aksClusterUser: ['aks/user-credential'],
  scaledObjectEditor: ['aks/scaledobjects'],
  monitoringMetricsPublisher: ['monitor/publish'],
};

/**
 * The resource a call reaches: every lane's queue, the GPU lanes' queues (those with workers), a container,
 * the storage account, a Key Vault secret, the cluster or its namespace, Application Insights.
 */
export type Target =
  | 'queues'
  | 'gpu-queues'
  | 'container:inputs'
  | 'container:results'
  | 'container:scaler-deployments'
  | 'storage-account'
  | 'secret:mongodb-uri'
  | 'secret:webhook-master-key'
  | 'cluster'
  | 'cluster-namespace'
  | 'app-insights';

export interface DataPlaneCall {
  /** The SDK call (or platform feature) and where in the code it is made. */
  call: string;
  claim: Claim;
  target: Target;
}

export const DATA_PLANE_CALLS: Record<AppName, readonly DataPlaneCall[]> = {
  gateway: [
    {
      call: 'ServiceBusSender.sendMessages (submit, fair dispatch, repair: libs/platform dispatch.ts)',
      claim: 'servicebus/send',
      target: 'queues',
    },
    {
      call: 'ServiceBusAdministrationClient.getQueueRuntimeProperties (queue_* metrics: apps/gateway background-tasks.ts)',
      claim: 'servicebus/manage',
      target: 'queues',
    },
    { call: 'BlockBlobClient.stageBlock/commitBlockList (job input: job-service.ts)', claim: 'blob/write', target: 'container:inputs' },
    { call: 'BlobClient.delete (refused submit, sweeper)', claim: 'blob/delete', target: 'container:inputs' },
    { call: 'BlobClient.download (GET /v1/jobs/{id}/result)', claim: 'blob/read', target: 'container:results' },
    { call: 'BlobClient.delete (sweeper: retention)', claim: 'blob/delete', target: 'container:results' },
    { call: 'BlobServiceClient.getUserDelegationKey (result links)', claim: 'blob/delegation-key', target: 'storage-account' },
    { call: 'Secrets Store CSI driver mounts MONGODB_URI', claim: 'keyvault/secret-read', target: 'secret:mongodb-uri' },
    { call: 'Secrets Store CSI driver mounts WEBHOOK_MASTER_KEY', claim: 'keyvault/secret-read', target: 'secret:webhook-master-key' },
  ],
  worker: [
    {
      call: 'ServiceBusReceiver.receiveMessages/renewMessageLock/completeMessage/abandonMessage/deadLetterMessage (worker.ts)',
      claim: 'servicebus/listen',
      target: 'gpu-queues',
    },
    { call: 'ServiceBusSender.sendMessages (held jobs released when one ends)', claim: 'servicebus/send', target: 'gpu-queues' },
    { call: 'BlobClient.download (job input: job-consumer.ts)', claim: 'blob/read', target: 'container:inputs' },
    { call: 'BlockBlobClient.stageBlock/commitBlockList (large result)', claim: 'blob/write', target: 'container:results' },
    { call: 'Secrets Store CSI driver mounts MONGODB_URI', claim: 'keyvault/secret-read', target: 'secret:mongodb-uri' },
  ],
  scaler: [
    {
      call: 'ServiceBusAdministrationClient.getQueueRuntimeProperties (tiers 2 and 3: libs/platform scaler.ts)',
      claim: 'servicebus/manage',
      target: 'queues',
    },
    { call: 'Service Bus trigger on $DeadLetterQueue (receive and settle dead letters)', claim: 'servicebus/listen', target: 'queues' },
    { call: 'Key Vault reference @Microsoft.KeyVault(...mongodb-uri)', claim: 'keyvault/secret-read', target: 'secret:mongodb-uri' },
    { call: 'managedClusters/listClusterUserCredential', claim: 'aks/user-credential', target: 'cluster' },
    {
      call: 'patch keda.sh ScaledObject minReplicaCount (orchestrator-kubernetes)',
      claim: 'aks/scaledobjects',
      target: 'cluster-namespace',
    },
    { call: 'Functions host: deployment package (AzureWebJobsStorage)', claim: 'blob/read', target: 'container:scaler-deployments' },
    { call: 'Functions host: deployment package and host locks', claim: 'blob/write', target: 'container:scaler-deployments' },
    { call: 'Application Insights ingestion with Entra ID', claim: 'monitor/publish', target: 'app-insights' },
  ],
  keda: [
    { call: 'azure-servicebus scaler: GetQueueRuntimeProperties (active message count)', claim: 'servicebus/manage', target: 'gpu-queues' },
  ],
};
