import * as authorization from '@pulumi/azure-native/authorization';
import * as managedidentity from '@pulumi/azure-native/managedidentity';
import * as pulumi from '@pulumi/pulumi';
import { ROLES, type StackConfig } from '../config';
import type { ComponentArgs } from './component-args';

export type AppName = 'gateway' | 'worker' | 'scaler';

/** One role an identity holds on one scope, with why (documented in README and asserted in tests). */
export interface Grant {
  /** Stable within the app: the assignment's resource name, so adding a lane never renames the others. */
  key: string;
  role: keyof typeof ROLES | 'scaledObjectEditor';
  scope: pulumi.Input<string>;
  why: string;
}

export interface IdentityArgs extends ComponentArgs {
  subscriptionId: pulumi.Input<string>;
  config: StackConfig;
  oidcIssuerUrl: pulumi.Input<string>;
  clusterId: pulumi.Input<string>;
  /** Each app's grants, least privilege. */
  grants: Record<AppName, Grant[]>;
}

/**
 * A user-assigned managed identity per app, federated with its Kubernetes service account (workload
 * identity: `system:serviceaccount:<namespace>:<app>`), holding exactly the role assignments listed. The
 * scaler's only cluster permission is a custom role to read Deployments and read/patch KEDA ScaledObjects.
 */
export class Identity extends pulumi.ComponentResource {
  readonly identities: Record<AppName, managedidentity.UserAssignedIdentity>;
  readonly assignments: { app: AppName; role: string; assignment: authorization.RoleAssignment }[] = [];

  constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gpu-jobs:infra:Identity', name, {}, opts);
    const parent = { parent: this };
    const ns = args.config.namespace;
    const scaledObjectEditor = new authorization.RoleDefinition(
      `${name}-scaledobject-editor`,
      {
        scope: args.clusterId,
        roleName: `gpu-jobs ScaledObject editor (${args.config.environment})`,
        description: "Reads lane worker Deployments and reads and patches KEDA ScaledObjects: the scaler's only cluster permission",
        assignableScopes: [args.clusterId],
        permissions: [
          {
            actions: [
              'Microsoft.ContainerService/managedClusters/read',
              'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action',
            ],
            dataActions: [
              'Microsoft.ContainerService/managedClusters/apps/deployments/read',
              'Microsoft.ContainerService/managedClusters/keda.sh/scaledobjects/read',
              'Microsoft.ContainerService/managedClusters/keda.sh/scaledobjects/write',
            ],
          },
        ],
      },
      parent,
    );
    const apps: AppName[] = ['gateway', 'worker', 'scaler'];
    this.identities = Object.fromEntries(
      apps.map((app) => {
        const id = new managedidentity.UserAssignedIdentity(
          `${name}-${app}`,
          {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            resourceName: `gpujobs-${args.config.environment}-${app}`,
            tags: args.tags,
          },
          parent,
        );
        new managedidentity.FederatedIdentityCredential(
          `${name}-${app}-federation`,
          {
            resourceGroupName: args.resourceGroupName,
            resourceName: id.name,
            federatedIdentityCredentialResourceName: `${app}-service-account`,
            issuer: args.oidcIssuerUrl,
            subject: `system:serviceaccount:${ns}:${app}`,
            audiences: ['api://AzureADTokenExchange'],
          },
          { parent: id },
        );
        args.grants[app].forEach((grant) => {
          const roleDefinitionId =
            grant.role === 'scaledObjectEditor'
              ? scaledObjectEditor.id
              : pulumi.interpolate`/subscriptions/${args.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ROLES[grant.role]}`;
          const assignment = new authorization.RoleAssignment(
            `${name}-${app}-${grant.key}`,
            {
              scope: grant.scope,
              principalId: id.principalId,
              principalType: 'ServicePrincipal',
              roleDefinitionId,
              description: grant.why,
            },
            { parent: id },
          );
          this.assignments.push({ app, role: grant.role, assignment });
        });
        return [app, id];
      }),
    ) as Record<AppName, managedidentity.UserAssignedIdentity>;
    this.registerOutputs(Object.fromEntries(apps.map((a) => [`${a}ClientId`, this.identities[a].clientId])));
  }
}
