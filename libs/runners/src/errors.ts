/**
 * The input cannot be used, and trying again will not help (a corrupt image, a tensor of the wrong
 * shape). The worker fails such a job at once, without retries, and stays healthy.
 */
export class PermanentInputError extends Error {
  override readonly name = 'PermanentInputError';
  constructor(
    readonly code: 'image_unreadable' | 'image_too_large' | 'input_invalid' | 'tensor_mismatch',
    message: string,
  ) {
    super(message);
  }
}

/** The job was cancelled while running; the runner stopped between stages. */
export class RunCancelledError extends Error {
  override readonly name = 'RunCancelledError';
  constructor() {
    super('the run was cancelled');
  }
}
