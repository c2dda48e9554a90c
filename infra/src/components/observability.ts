import * as applicationinsights from '@pulumi/azure-native/applicationinsights';
import * as authorization from '@pulumi/azure-native/authorization';
import * as consumption from '@pulumi/azure-native/consumption';
import * as dashboard from '@pulumi/azure-native/dashboard';
import * as insights from '@pulumi/azure-native/monitor';
import * as operationalinsights from '@pulumi/azure-native/operationalinsights';
import * as pulumi from '@pulumi/pulumi';
import { ROLES, type StackConfig } from '../config';
import type { ComponentArgs } from './component-args';

export interface ObservabilityArgs extends ComponentArgs {
  subscriptionId: pulumi.Input<string>;
  config: StackConfig;
  grafanaName: pulumi.Input<string>;
  /** The resource groups whose costs the budget covers: the platform's and the cluster's node group (the GPU VMs). */
  budgetResourceGroups: pulumi.Input<string>[];
}

/**
 * Log Analytics for logs (Container insights, the cluster's diagnostics, the scaler's Application Insights),
 * an Azure Monitor workspace for managed Prometheus (the cluster's metrics add-on writes there), Azure Managed
 * Grafana wired to it (with the Monitoring Data Reader role), and a monthly budget over the platform's resource
 * group and the cluster's node resource group (where the GPU VM scale sets are billed), with alerts at 80 %
 * actual and 100 % forecast.
 */
export class Observability extends pulumi.ComponentResource {
  readonly logs: operationalinsights.Workspace;
  readonly prometheus: insights.AzureMonitorWorkspace;
  readonly grafana: dashboard.Grafana;
  readonly prometheusRule: insights.DataCollectionRule;
  readonly appInsights: applicationinsights.Component;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gpu-jobs:infra:Observability', name, {}, opts);
    const parent = { parent: this };
    const c = args.config;
    this.logs = new operationalinsights.Workspace(
      `${name}-logs`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        sku: { name: 'PerGB2018' },
        retentionInDays: c.environment === 'prod' ? 90 : 30,
        tags: args.tags,
      },
      parent,
    );
    this.prometheus = new insights.AzureMonitorWorkspace(
      `${name}-prometheus`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        azureMonitorWorkspaceName: `gpujobs-${c.environment}-prom`,
        tags: args.tags,
      },
      parent,
    );
    // managed Prometheus: the cluster's metrics add-on sends through this endpoint and rule to the workspace
    const endpoint = new insights.DataCollectionEndpoint(
      `${name}-prometheus-dce`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'Linux',
        networkAcls: { publicNetworkAccess: 'Enabled' },
        tags: args.tags,
      },
      parent,
    );
    this.prometheusRule = new insights.DataCollectionRule(
      `${name}-prometheus-dcr`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'Linux',
        dataCollectionEndpointId: endpoint.id,
        dataSources: { prometheusForwarder: [{ name: 'PrometheusDataSource', streams: ['Microsoft-PrometheusMetrics'] }] },
        destinations: { monitoringAccounts: [{ name: 'MonitoringAccount1', accountResourceId: this.prometheus.id }] },
        dataFlows: [{ streams: ['Microsoft-PrometheusMetrics'], destinations: ['MonitoringAccount1'] }],
        tags: args.tags,
      },
      parent,
    );
    this.grafana = new dashboard.Grafana(
      `${name}-grafana`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        workspaceName: args.grafanaName,
        sku: { name: 'Standard' },
        identity: { type: 'SystemAssigned' },
        properties: {
          grafanaIntegrations: { azureMonitorWorkspaceIntegrations: [{ azureMonitorWorkspaceResourceId: this.prometheus.id }] },
          publicNetworkAccess: 'Enabled',
        },
        tags: args.tags,
      },
      parent,
    );
    new authorization.RoleAssignment(
      `${name}-grafana-reads-prometheus`,
      {
        scope: this.prometheus.id,
        principalId: this.grafana.identity.apply((i) => i?.principalId ?? ''),
        principalType: 'ServicePrincipal',
        roleDefinitionId: pulumi.interpolate`/subscriptions/${args.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ROLES.monitoringDataReader}`,
      },
      parent,
    );
    this.appInsights = new applicationinsights.Component(
      `${name}-appinsights`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'web',
        applicationType: 'web',
        workspaceResourceId: this.logs.id,
        // ingestion only with Entra ID (the scaler's identity holds Monitoring Metrics Publisher)
        disableLocalAuth: true,
        tags: args.tags,
      },
      parent,
    );
    const start = `${new Date().toISOString().slice(0, 7)}-01T00:00:00Z`;
    new consumption.Budget(
      `${name}-budget`,
      {
        scope: pulumi.interpolate`/subscriptions/${args.subscriptionId}`,
        filter: { dimensions: { name: 'ResourceGroupName', operator: 'In', values: args.budgetResourceGroups } },
        budgetName: `gpujobs-${c.environment}-monthly`,
        amount: c.budgetAmount,
        category: 'Cost',
        timeGrain: 'Monthly',
        timePeriod: { startDate: start },
        notifications: {
          actual80: {
            enabled: true,
            operator: 'GreaterThan',
            threshold: 80,
            contactEmails: c.budgetContactEmails,
            thresholdType: 'Actual',
          },
          forecast100: {
            enabled: true,
            operator: 'GreaterThan',
            threshold: 100,
            contactEmails: c.budgetContactEmails,
            thresholdType: 'Forecasted',
          },
        },
      },
      { ...parent, ignoreChanges: ['timePeriod'] },
    );
    this.registerOutputs({ grafanaEndpoint: this.grafana.properties.apply((p) => p.endpoint), prometheusId: this.prometheus.id });
  }
}
