import * as network from '@pulumi/azure-native/network';
import * as privatedns from '@pulumi/azure-native/privatedns';
import * as pulumi from '@pulumi/pulumi';
import type { ComponentArgs } from './component-args';

export interface NetworkArgs extends ComponentArgs {
  cidr: string;
}

/** The private DNS zone of each service reached by private endpoint. */
export const PRIVATE_DNS_ZONES = {
  serviceBus: 'privatelink.servicebus.windows.net',
  blob: 'privatelink.blob.core.windows.net',
  keyVault: 'privatelink.vaultcore.azure.net',
  mongo: 'privatelink.mongocluster.cosmos.azure.com',
  acr: 'privatelink.azurecr.io',
} as const;
export type DnsZoneName = keyof typeof PRIVATE_DNS_ZONES;

/**
 * The VNet with a subnet each for the AKS nodes, the private endpoints and the Functions app (delegated to
 * Microsoft.App/environments for Flex Consumption VNet integration), an NSG per subnet, and the private
 * DNS zones linked to the VNet. The nodes' NSG lets HTTP(S) from the internet reach the ingress controller's
 * load balancer (the application routing add-on's NGINX); everything else inbound keeps Azure's defaults
 * (VNet and load balancer probes only).
 */
export class Network extends pulumi.ComponentResource {
  readonly vnet: network.VirtualNetwork;
  readonly nodesSubnetId: pulumi.Output<string>;
  readonly endpointsSubnetId: pulumi.Output<string>;
  readonly functionsSubnetId: pulumi.Output<string>;
  /** The private endpoints' subnet: the only private range pods may reach (deploy/ network policies). */
  readonly endpointsCidr: string;
  readonly dnsZones: Record<DnsZoneName, privatedns.PrivateZone>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gpu-jobs:infra:Network', name, {}, opts);
    const parent = { parent: this };
    const base = args.cidr.split('.').slice(0, 2).join('.');
    const nsg = (id: string, rules: network.NetworkSecurityGroupArgs['securityRules'] = []) =>
      new network.NetworkSecurityGroup(
        `${name}-${id}-nsg`,
        { resourceGroupName: args.resourceGroupName, location: args.location, securityRules: rules, tags: args.tags },
        parent,
      );
    const nodesNsg = nsg('nodes', [
      {
        name: 'allow-https-to-ingress',
        priority: 100,
        direction: 'Inbound',
        access: 'Allow',
        protocol: 'Tcp',
        sourceAddressPrefix: 'Internet',
        sourcePortRange: '*',
        destinationAddressPrefix: '*',
        // 80 only answers with a redirect to 443 (NGINX's default with a TLS host)
        destinationPortRanges: ['80', '443'],
      },
    ]);
    this.endpointsCidr = `${base}.16.0/24`;
    const endpointsNsg = nsg('endpoints', [
      // only the VNet reaches the private endpoints
      {
        name: 'allow-vnet',
        priority: 100,
        direction: 'Inbound',
        access: 'Allow',
        protocol: '*',
        sourceAddressPrefix: 'VirtualNetwork',
        sourcePortRange: '*',
        destinationAddressPrefix: '*',
        destinationPortRange: '*',
      },
      {
        name: 'deny-all-inbound',
        priority: 4096,
        direction: 'Inbound',
        access: 'Deny',
        protocol: '*',
        sourceAddressPrefix: '*',
        sourcePortRange: '*',
        destinationAddressPrefix: '*',
        destinationPortRange: '*',
      },
    ]);
    const functionsNsg = nsg('functions');
    this.vnet = new network.VirtualNetwork(
      `${name}-vnet`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        addressSpace: { addressPrefixes: [args.cidr] },
        subnets: [
          { name: 'nodes', addressPrefix: `${base}.0.0/20`, networkSecurityGroup: { id: nodesNsg.id } },
          {
            name: 'endpoints',
            addressPrefix: this.endpointsCidr,
            networkSecurityGroup: { id: endpointsNsg.id },
            privateEndpointNetworkPolicies: 'Enabled',
          },
          {
            name: 'functions',
            addressPrefix: `${base}.17.0/24`,
            networkSecurityGroup: { id: functionsNsg.id },
            delegations: [{ name: 'flex', serviceName: 'Microsoft.App/environments' }],
          },
        ],
        tags: args.tags,
      },
      parent,
    );
    const subnetId = (n: string) => this.vnet.subnets.apply((s) => s?.find((x) => x.name === n)?.id ?? '');
    this.nodesSubnetId = subnetId('nodes');
    this.endpointsSubnetId = subnetId('endpoints');
    this.functionsSubnetId = subnetId('functions');
    this.dnsZones = Object.fromEntries(
      Object.entries(PRIVATE_DNS_ZONES).map(([key, zone]) => {
        const z = new privatedns.PrivateZone(
          `${name}-dns-${key}`,
          { resourceGroupName: args.resourceGroupName, location: 'Global', privateZoneName: zone, tags: args.tags },
          parent,
        );
        new privatedns.VirtualNetworkLink(
          `${name}-dns-${key}-link`,
          {
            resourceGroupName: args.resourceGroupName,
            privateZoneName: z.name,
            location: 'Global',
            virtualNetwork: { id: this.vnet.id },
            registrationEnabled: false,
            tags: args.tags,
          },
          { parent: z },
        );
        return [key, z];
      }),
    ) as Record<DnsZoneName, privatedns.PrivateZone>;
    this.registerOutputs({ vnetId: this.vnet.id });
  }
}

export interface PrivateEndpointArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  subnetId: pulumi.Input<string>;
  targetId: pulumi.Input<string>;
  /** The sub-resource, e.g. namespace, blob, vault, MongoCluster, registry. */
  groupId: string;
  dnsZone: privatedns.PrivateZone;
  tags: Record<string, string>;
}

/** A private endpoint for a service and its DNS record in the service's private zone. */
export function privateEndpoint(name: string, args: PrivateEndpointArgs, parent: pulumi.Resource): network.PrivateEndpoint {
  const pe = new network.PrivateEndpoint(
    name,
    {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      subnet: { id: args.subnetId },
      privateLinkServiceConnections: [{ name, privateLinkServiceId: args.targetId, groupIds: [args.groupId] }],
      tags: args.tags,
    },
    { parent },
  );
  new network.PrivateDnsZoneGroup(
    `${name}-dns`,
    {
      resourceGroupName: args.resourceGroupName,
      privateEndpointName: pe.name,
      privateDnsZoneConfigs: [{ name: args.groupId, privateDnsZoneId: args.dnsZone.id }],
    },
    { parent: pe },
  );
  return pe;
}
