// The Pulumi program run under Pulumi's mocks (pulumi.runtime.setMocks: no CLI, no plugins, no Azure), once
// per stack with that stack's file as configuration. Every resource the program declares is recorded with its
// inputs and whether it is protected; the mocked cloud answers GUIDs where Azure does (client, principal and
// object ids, the directory), so the outputs look like a real `pulumi stack output`.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { loadStackConfig, type StackConfig } from '../config';
import type { ReleaseValues } from '../release-values';

export interface Recorded {
  type: string;
  name: string;
  id: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  protect: boolean;
}

export const STACKS = ['dev', 'staging', 'prod'] as const;
export type StackName = (typeof STACKS)[number];

/** A deterministic GUID for a seed, as Azure would hand out. */
export function guid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const MOCK_CLIENT = {
  clientId: guid('deployer-client'),
  objectId: guid('deployer-object'),
  subscriptionId: guid('subscription'),
  tenantId: guid('directory'),
};

export function stackFile(stack: StackName): Record<string, unknown> {
  const path = fileURLToPath(new URL(`../../Pulumi.${stack}.yaml`, import.meta.url));
  return (parse(readFileSync(path, 'utf8')) as { config: Record<string, unknown> }).config;
}

const NAME_KEYS: Record<string, string> = {
  'servicebus:Namespace': 'namespaceName',
  'servicebus:Queue': 'queueName',
  'storage:StorageAccount': 'accountName',
  'storage:BlobContainer': 'containerName',
  'keyvault:Vault': 'vaultName',
  'keyvault:Secret': 'secretName',
  'mongocluster:MongoCluster': 'mongoClusterName',
  'managedidentity:UserAssignedIdentity': 'resourceName',
  'resources:ResourceGroup': 'resourceGroupName',
  'containerregistry:Registry': 'registryName',
  'dashboard:Grafana': 'workspaceName',
};

/** What the mocked cloud answers beyond the inputs, for the outputs the program reads. */
function state(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const key = NAME_KEYS[type.replace('azure-native:', '')];
  const base = { ...inputs, name: (key && inputs[key]) ?? inputs['name'] ?? name };
  switch (type) {
    case 'azure-native:containerservice:ManagedCluster':
      return {
        ...base,
        oidcIssuerProfile: { enabled: true, issuerURL: `https://westeurope.oic.prod-aks.azure.com/${MOCK_CLIENT.tenantId}/${guid(name)}/` },
        identityProfile: { kubeletidentity: { objectId: guid(`${name}-kubelet`) } },
        ingressProfile: { webAppRouting: { enabled: true, identity: { objectId: guid(`${name}-webapprouting`) } } },
      };
    case 'azure-native:storage:StorageAccount':
      return { ...base, primaryEndpoints: { blob: `https://${inputs['accountName']}.blob.core.windows.net/` } };
    case 'azure-native:managedidentity:UserAssignedIdentity':
      return { ...base, principalId: guid(`${name}-principal`), clientId: guid(`${name}-client`) };
    case 'azure-native:dashboard:Grafana':
      return {
        ...base,
        identity: { type: 'SystemAssigned', principalId: guid('grafana-principal') },
        properties: { ...(inputs['properties'] as object), endpoint: 'https://grafana.example' },
      };
    case 'azure-native:keyvault:Vault':
      return { ...base, properties: { ...(inputs['properties'] as object), vaultUri: `https://${inputs['vaultName']}.vault.azure.net/` } };
    case 'azure-native:containerregistry:Registry':
      return { ...base, loginServer: `${inputs['registryName']}.azurecr.io` };
    case 'azure-native:applicationinsights:Component':
      return {
        ...base,
        connectionString: `InstrumentationKey=${guid(name)};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/`,
      };
    default:
      return base;
  }
}

export interface PlatformRun {
  recorded: Recorded[];
  config: StackConfig;
  outputs: Record<string, unknown>;
  releaseValues: ReleaseValues;
}

const resolve = <T>(v: unknown) => new Promise<T>((r) => (pulumi.output(v as pulumi.Input<T>) as pulumi.Output<T>).apply((x) => r(x as T)));

/** Runs the program for a stack under mocks; the same secrets every time, none of them real. */
export async function runPlatform(stack: StackName): Promise<PlatformRun> {
  const recorded: Recorded[] = [];
  const protectedNames = new Set<string>();
  const config: Record<string, string> = {
    'gpu-jobs:mongoAdminPassword': 'not/a:real@password',
    'gpu-jobs:webhookMasterKey': 'not-a-real-webhook-master-key-0123456789abcdef',
  };
  // what each operator sets for their stack (docs/operations.md, "First deploy")
  config['gpu-jobs:auth'] = JSON.stringify({ audience: guid(`api-app-${stack}`) });
  config['gpu-jobs:ingress'] = JSON.stringify({ host: `api-${stack}.gpujobs.contoso.com` });
  config['gpu-jobs:budgetContactEmails'] = JSON.stringify(['platform-team@contoso.com']);
  for (const [k, v] of Object.entries(stackFile(stack))) config[k] = typeof v === 'string' ? v : JSON.stringify(v);
  pulumi.runtime.setAllConfig(config, ['gpu-jobs:mongoAdminPassword', 'gpu-jobs:webhookMasterKey']);
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const id = `${args.name}-id`;
        recorded.push({ type: args.type, name: args.name, id, inputs: args.inputs, protect: false });
        return { id, state: state(args.type, args.name, args.inputs) };
      },
      call: (args) => (args.token === 'azure-native:authorization:getClientConfig' ? MOCK_CLIENT : args.inputs),
    },
    'gpu-jobs',
    stack,
    false,
  );
  const { createPlatform } = await import('../stack');
  const stackConfig = loadStackConfig(new pulumi.Config('gpu-jobs'));
  const outputs = createPlatform(
    stackConfig,
    {
      mongoAdminPassword: config['gpu-jobs:mongoAdminPassword'] as string,
      webhookMasterKey: config['gpu-jobs:webhookMasterKey'] as string,
    },
    {
      transformations: [
        (args) => {
          if (args.opts.protect) protectedNames.add(`${args.type} ${args.name}`);
          return undefined;
        },
      ],
    },
  );
  const resolved: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs)) resolved[k] = await resolve(v);
  await new Promise((r) => setTimeout(r, 50));
  resolved['mongoAdminPasswordIsSecret'] = await (outputs.mongoAdminPassword as unknown as { isSecret: Promise<boolean> }).isSecret;
  for (const r of recorded) r.protect = protectedNames.has(`${r.type} ${r.name}`);
  return { recorded, config: stackConfig, outputs: resolved, releaseValues: resolved['releaseValues'] as ReleaseValues };
}
