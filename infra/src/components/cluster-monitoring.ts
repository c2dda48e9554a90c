import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as alertsmanagement from '@pulumi/azure-native/alertsmanagement';
import * as monitor from '@pulumi/azure-native/monitor';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import type { StackConfig } from '../config';
import type { ComponentArgs } from './component-args';
import type { Cluster } from './cluster';
import type { Observability } from './observability';

/** The alert rules, kept with the dashboard in deploy/monitoring/ and provisioned here as Azure rule groups. */
export const ALERT_RULES_FILE = fileURLToPath(new URL('../../../deploy/monitoring/alert-rules.yaml', import.meta.url));

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  severity: 'critical' | 'warning' | 'info';
  summary: string;
  runbook: string;
}
export interface AlertGroup {
  name: string;
  rules: AlertRule[];
}

export function loadAlertGroups(path = ALERT_RULES_FILE): AlertGroup[] {
  return (parse(readFileSync(path, 'utf8')) as { groups: AlertGroup[] }).groups;
}

/** Prometheus durations (5m, 1h) as the ISO 8601 durations Azure rule groups take. */
export function isoDuration(d: string): string {
  const m = /^(\d+)([smh])$/.exec(d);
  if (!m) throw new Error(`alert duration ${d}: use <n>s, <n>m or <n>h`);
  return `PT${m[1]}${(m[2] as string).toUpperCase()}`;
}

/** Azure Monitor alert severity: 0 critical ... 4 verbose. */
const SEVERITY = { critical: 1, warning: 3, info: 4 } as const;

export interface ClusterMonitoringArgs extends ComponentArgs {
  config: StackConfig;
  cluster: Cluster;
  observability: Observability;
}

/**
 * Everything that collects from the cluster: managed Prometheus (the rule association that sends the metrics
 * add-on's scrapes, PodMonitors included, to the Azure Monitor workspace), Container insights (container logs,
 * inventory and events to Log Analytics, Entra ID auth), the control plane's diagnostics (API server and audit
 * logs), and the platform's alert rules as Prometheus rule groups that Azure Monitor evaluates, notifying the
 * stack's contacts through an action group. (Managed Prometheus does not evaluate PrometheusRule objects.)
 */
export class ClusterMonitoring extends pulumi.ComponentResource {
  readonly ruleGroups: alertsmanagement.PrometheusRuleGroup[];

  constructor(name: string, args: ClusterMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gpu-jobs:infra:ClusterMonitoring', name, {}, opts);
    const parent = { parent: this };
    const cluster = args.cluster.cluster;
    const obs = args.observability;
    new monitor.DataCollectionRuleAssociation(
      `${name}-prometheus`,
      {
        resourceUri: cluster.id,
        associationName: 'ContainerInsightsMetricsExtension',
        dataCollectionRuleId: obs.prometheusRule.id,
        description: "the cluster's managed Prometheus metrics go to the Azure Monitor workspace",
      },
      parent,
    );
    const insightsRule = new monitor.DataCollectionRule(
      `${name}-container-insights`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'Linux',
        dataSources: {
          extensions: [
            {
              name: 'ContainerInsightsExtension',
              extensionName: 'ContainerInsights',
              streams: ['Microsoft-ContainerInsights-Group-Default'],
              extensionSettings: {
                dataCollectionSettings: { interval: '1m', namespaceFilteringMode: 'Off', enableContainerLogV2: true },
              },
            },
          ],
        },
        destinations: { logAnalytics: [{ name: 'ciworkspace', workspaceResourceId: obs.logs.id }] },
        dataFlows: [{ streams: ['Microsoft-ContainerInsights-Group-Default'], destinations: ['ciworkspace'] }],
        tags: args.tags,
      },
      parent,
    );
    new monitor.DataCollectionRuleAssociation(
      `${name}-container-insights`,
      {
        resourceUri: cluster.id,
        associationName: 'ContainerInsightsExtension',
        dataCollectionRuleId: insightsRule.id,
        description: 'container logs, inventory and Kubernetes events to Log Analytics',
      },
      parent,
    );
    new monitor.DiagnosticSetting(
      `${name}-control-plane`,
      {
        resourceUri: cluster.id,
        name: 'control-plane-to-log-analytics',
        workspaceId: obs.logs.id,
        logs: ['kube-apiserver', 'kube-audit-admin', 'cluster-autoscaler', 'guard'].map((category) => ({ category, enabled: true })),
      },
      parent,
    );
    const actionGroup = new monitor.ActionGroup(
      `${name}-alerts`,
      {
        resourceGroupName: args.resourceGroupName,
        location: 'Global',
        groupShortName: `gj${args.config.environment}`.slice(0, 12),
        enabled: true,
        emailReceivers: args.config.budgetContactEmails.map((emailAddress, i) => ({
          name: `contact-${i + 1}`,
          emailAddress,
          useCommonAlertSchema: true,
        })),
        tags: args.tags,
      },
      parent,
    );
    this.ruleGroups = loadAlertGroups().map(
      (group) =>
        new alertsmanagement.PrometheusRuleGroup(
          `${name}-${group.name}`,
          {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            ruleGroupName: group.name,
            description: `gpu-jobs alerts (${group.name}), from deploy/monitoring/alert-rules.yaml`,
            scopes: [obs.prometheus.id, cluster.id],
            clusterName: cluster.name,
            enabled: true,
            interval: 'PT1M',
            rules: group.rules.map((r) => ({
              alert: r.alert,
              expression: r.expr,
              for: isoDuration(r.for),
              severity: SEVERITY[r.severity],
              enabled: true,
              labels: { severity: r.severity },
              annotations: { summary: r.summary, runbook: r.runbook },
              actions: [{ actionGroupId: actionGroup.id }],
              resolveConfiguration: { autoResolved: true, timeToResolve: 'PT10M' },
            })),
            tags: args.tags,
          },
          parent,
        ),
    );
    this.registerOutputs({ ruleGroups: this.ruleGroups.map((g) => g.name) });
  }
}
