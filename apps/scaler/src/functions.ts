// The scaler as an Azure Functions app (Node.js programming model v4): the Functions host loads this file
// (package.json "main") and runs the handlers on its timers and on the lanes' dead-letter queues.
import { app } from '@azure/functions';
import { KubernetesOrchestrator, loadKubeConfig } from '@gpu-jobs/orchestrator-kubernetes';
import { createLogger } from '@gpu-jobs/telemetry';
import { deadLetterHandler, tierHandler } from './handlers';
import { loadScalerConfig } from './scaler-config';
import { openScaler, scalerLanes, type Scaler } from './scaler-deps';

const log = createLogger('scaler');
const config = loadScalerConfig();

// one scaler per Functions instance, opened on the first invocation and reused (connections are pooled)
let opened: Promise<Scaler> | undefined;
const deps = () =>
  (opened ??= openScaler(
    config,
    new KubernetesOrchestrator({
      kubeConfig: loadKubeConfig(),
      namespace: config.K8S_NAMESPACE,
      nameFor: (lane) => `${config.K8S_NAME_PREFIX}${lane}`,
    }),
    log,
  ));

// tier 2 every 30 s; tier 3 every 3 h (NCRONTAB with seconds)
app.timer('reactiveMonitor', { schedule: '*/30 * * * * *', handler: tierHandler('reactive', deps) });
app.timer('baselineAdjuster', { schedule: '0 0 */3 * * *', handler: tierHandler('baseline', deps) });

// one trigger per lane's dead-letter queue; the connection is identity-based (ServiceBus__fullyQualifiedNamespace)
for (const lane of scalerLanes(config)) {
  app.serviceBusQueue(`deadLetters-${lane}`, {
    connection: 'ServiceBus',
    queueName: `${lane}/$deadletterqueue`,
    handler: deadLetterHandler(deps),
  });
}
