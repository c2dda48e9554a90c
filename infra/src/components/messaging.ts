import * as pulumi from '@pulumi/pulumi';
import * as servicebus from '@pulumi/azure-native/servicebus';
import type { StackConfig } from '../config';
import { privateEndpoint, type Network } from './network';
import type { ComponentArgs } from './component-args';

export interface MessagingArgs extends ComponentArgs {
  config: StackConfig;
  network: Network;
  namespaceName: pulumi.Input<string>;
  /** The lanes of the model registry: a queue each. */
  lanes: readonly string[];
}

/**
 * The Service Bus namespace (tier from config; Premium in prod, where it is reached only by private endpoint)
 * with one queue per lane: lock duration, max delivery count, duplicate detection (the job id is the message
 * id) and dead-lettering on expiry. Local (SAS) auth is off: every client uses Entra ID.
 */
export class Messaging extends pulumi.ComponentResource {
  readonly namespace: servicebus.Namespace;
  readonly queues: Record<string, servicebus.Queue>;

  constructor(name: string, args: MessagingArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gpu-jobs:infra:Messaging', name, {}, opts);
    const parent = { parent: this };
    const c = args.config;
    const premium = c.serviceBusSku === 'Premium';
    this.namespace = new servicebus.Namespace(
      `${name}-sb`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        namespaceName: args.namespaceName,
        sku: { name: c.serviceBusSku, tier: c.serviceBusSku, ...(premium ? { capacity: 1 } : {}) },
        disableLocalAuth: true,
        minimumTlsVersion: '1.2',
        // Standard has no private endpoints: public access stays on there, with Entra ID auth only
        publicNetworkAccess: premium ? 'Disabled' : 'Enabled',
        tags: args.tags,
      },
      { ...parent, protect: c.environment === 'prod' },
    );
    this.queues = Object.fromEntries(
      args.lanes.map((lane) => [
        lane,
        new servicebus.Queue(
          `${name}-q-${lane}`,
          {
            resourceGroupName: args.resourceGroupName,
            namespaceName: this.namespace.name,
            queueName: lane,
            lockDuration: c.queue.lockDuration,
            maxDeliveryCount: c.queue.maxDeliveryCount,
            requiresDuplicateDetection: true,
            duplicateDetectionHistoryTimeWindow: c.queue.duplicateWindow,
            deadLetteringOnMessageExpiration: true,
            defaultMessageTimeToLive: c.queue.messageTtl,
            enablePartitioning: false,
          },
          { parent: this.namespace },
        ),
      ]),
    );
    if (premium) {
      privateEndpoint(
        `${name}-sb-pe`,
        {
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          subnetId: args.network.endpointsSubnetId,
          targetId: this.namespace.id,
          groupId: 'namespace',
          dnsZone: args.network.dnsZones.serviceBus,
          tags: args.tags,
        },
        this,
      );
    }
    this.registerOutputs({ namespace: this.namespace.name, queues: [...args.lanes] });
  }
}
