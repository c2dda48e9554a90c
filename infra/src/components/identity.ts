import * as authorization from '@pulumi/azure-native/authorization';
import * as managedidentity from '@pulumi/azure-native/managedidentity';
import * as pulumi from '@pulumi/pulumi';
import { ROLES, type StackConfig } from '../config';
import type { ComponentArgs } from './component-args';

/** The principals the platform runs as: its three apps, and KEDA reading the lane queues. */
export const APPS = ['gateway', 'worker', 'scaler', 'keda'] as const;
export type AppName = (typeof APPS)[number];

/** The Kubernetes service account each identity is federated with (workload identity); the scaler runs in Functions. */
export function federatedSubject(app: AppName, namespace: string): string | undefined {
  switch (app) {
    case 'gateway':
    case 'worker':
      return `system:serviceaccount:${namespace}:${app}`;
    case 'keda':
      // the AKS KEDA add-on's operator reads the queues for every ScaledObject's TriggerAuthentication
      return 'system:serviceaccount:kube-system:keda-operator';
    case 'scaler':
      return undefined;
  }
}

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
 * A user-assigned managed identity per app, federated with exactly its Kubernetes service account (workload
 * identity), holding exactly the role assignments listed. KEDA has its own identity, federated with the add-on's
 * `kube-system:keda-operator`. The scaler's cluster permission is a custom role to read Deployments and
 * read/patch KEDA ScaledObjects.
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
    this.identities = Object.fromEntries(
      APPS.map((app) => {
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
        const subject = federatedSubject(app, ns);
        if (subject) {
          new managedidentity.FederatedIdentityCredential(
            `${name}-${app}-federation`,
            {
              resourceGroupName: args.resourceGroupName,
              resourceName: id.name,
              federatedIdentityCredentialResourceName: `${app}-service-account`,
              issuer: args.oidcIssuerUrl,
              subject,
              audiences: ['api://AzureADTokenExchange'],
            },
            { parent: id },
          );
        }
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
    this.registerOutputs(Object.fromEntries(APPS.map((a) => [`${a}ClientId`, this.identities[a].clientId])));
  }
}
