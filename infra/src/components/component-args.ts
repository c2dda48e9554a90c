import type * as pulumi from '@pulumi/pulumi';

/** What every component takes: where its resources go and the tags they all carry. */
export interface ComponentArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  tags: Record<string, string>;
}
