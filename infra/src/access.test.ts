// Least privilege, checked: the program's role assignments (under Pulumi's mocks) against the data-plane calls
// each principal makes (access.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { DATA_PLANE_CALLS, ROLE_CLAIMS, type Claim, type DataPlaneCall, type RoleName, type Target } from './access';
import { ROLES } from './config';
import { APPS, type AppName } from './components/identity';
import { STACKS, guid, runPlatform, type PlatformRun, type Recorded, type StackName } from './testing/mock-platform';

const runs = {} as Record<StackName, PlatformRun>;
beforeAll(async () => {
  for (const stack of STACKS) runs[stack] = await runPlatform(stack);
});

interface Held {
  role: RoleName;
  scope: string;
  name: string;
}

function held(run: PlatformRun, app: AppName): Held[] {
  const definitions = run.recorded.filter((r) => r.type === 'azure-native:authorization:RoleDefinition');
  return run.recorded
    .filter((r) => r.type === 'azure-native:authorization:RoleAssignment' && r.inputs['principalId'] === guid(`identity-${app}-principal`))
    .map((r) => {
      const def = String(r.inputs['roleDefinitionId']);
      const builtIn = Object.entries(ROLES).find(([, id]) => def.endsWith(id))?.[0];
      const custom = definitions.find((d) => d.id === def) ? 'scaledObjectEditor' : undefined;
      return { role: (builtIn ?? custom ?? def) as RoleName, scope: String(r.inputs['scope']), name: r.name };
    });
}

/** The resource ids a call's target stands for in one run. */
function targetIds(run: PlatformRun, target: Target): string[] {
  const find = (type: string, pred: (r: Recorded) => boolean) =>
    run.recorded.filter((r) => r.type === `azure-native:${type}` && pred(r)).map((r) => r.id);
  const gpuLanes = [run.config.gpuPool.lane, ...(run.config.spotPool.enabled ? [run.config.spotPool.lane] : [])];
  const cluster = find('containerservice:ManagedCluster', () => true);
  switch (target) {
    case 'queues':
      return find('servicebus:Queue', () => true);
    case 'gpu-queues':
      return find('servicebus:Queue', (r) => gpuLanes.includes(r.inputs['queueName']));
    case 'storage-account':
      return find('storage:StorageAccount', () => true);
    case 'cluster':
      return cluster;
    case 'cluster-namespace':
      return cluster.map((id) => `${id}/namespaces/${run.config.namespace}`);
    case 'app-insights':
      return find('applicationinsights:Component', () => true);
    default: {
      const [kind, name] = target.split(':');
      return kind === 'container'
        ? find('storage:BlobContainer', (r) => r.inputs['containerName'] === name)
        : find('keyvault:Secret', (r) => r.inputs['secretName'] === name);
    }
  }
}

const allows = (h: Held, claim: Claim, ids: string[], id: string) =>
  ids.includes(id) && h.scope === id && (ROLE_CLAIMS[h.role] ?? []).includes(claim);

describe.each(STACKS)('stack %s: each principal holds exactly what its calls need', (stack) => {
  it.each(APPS)('%s: every data-plane call is allowed by a role it holds on that resource', (app) => {
    const run = runs[stack];
    const grants = held(run, app);
    for (const c of DATA_PLANE_CALLS[app]) {
      const ids = targetIds(run, c.target);
      expect(ids.length, `${c.target} exists`).toBeGreaterThan(0);
      for (const id of ids)
        expect(
          grants.some((h) => allows(h, c.claim, ids, id)),
          `${app}: ${c.call} on ${id}`,
        ).toBe(true);
    }
  });

  it.each(APPS)('%s: every role it holds is needed by a call, and no smaller role would allow those calls', (app) => {
    const run = runs[stack];
    for (const h of held(run, app)) {
      const needed: DataPlaneCall[] = DATA_PLANE_CALLS[app].filter((c) => {
        const ids = targetIds(run, c.target);
        return allows(h, c.claim, ids, h.scope);
      });
      expect(needed.length, `${app} holds ${h.role} on ${h.scope} (${h.name}) for no call`).toBeGreaterThan(0);
      const claims = new Set(needed.map((c) => c.claim));
      const mine = ROLE_CLAIMS[h.role] ?? [];
      const smaller = (Object.entries(ROLE_CLAIMS) as [RoleName, Claim[]][]).filter(
        ([role, cs]) => role !== h.role && cs.length < mine.length && [...claims].every((c) => cs.includes(c)),
      );
      expect(
        smaller.map(([r]) => r),
        `${app}: ${h.role} on ${h.scope}`,
      ).toEqual([]);
    }
  });

  it('the checks catch an excess grant and a missing one', () => {
    const run = runs[stack];
    const queue = targetIds(run, 'queues')[0] as string;
    const excess: Held = { role: 'serviceBusDataOwner', scope: queue, name: 'worker-owner' };
    const workerNeeds = DATA_PLANE_CALLS.worker.filter((c) => allows(excess, c.claim, targetIds(run, c.target), queue)).map((c) => c.claim);
    // the worker needs listen and send there: Owner is more than those (Receiver and Sender are the smaller roles)
    expect(new Set(workerNeeds)).toEqual(new Set(['servicebus/listen', 'servicebus/send']));
    expect(ROLE_CLAIMS.serviceBusDataOwner).toContain('servicebus/manage');
    const gatewayWithoutSecrets = held(run, 'gateway').filter((h) => h.role !== 'keyVaultSecretsUser');
    const csi = DATA_PLANE_CALLS.gateway.find((c) => c.target === 'secret:webhook-master-key') as DataPlaneCall;
    const ids = targetIds(run, csi.target);
    expect(gatewayWithoutSecrets.some((h) => allows(h, csi.claim, ids, ids[0] as string))).toBe(false);
  });
});
