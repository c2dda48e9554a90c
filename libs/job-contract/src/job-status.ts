import Type from 'typebox';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export const JobStatus = Type.Enum(JOB_STATUSES, {
  title: 'JobStatus',
  description: 'queued -> running -> succeeded | failed | cancelled | expired',
});
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled', 'expired']);

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export const Priority = Type.Enum(PRIORITIES, { title: 'Priority', default: 'normal' });
export type Priority = (typeof PRIORITIES)[number];

/** Dispatch order of priorities: lower first. */
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = { high: 0, normal: 1, low: 2 };
