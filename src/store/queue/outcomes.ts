import { StatusCode } from '../../core/status.js';
import { poolName, type ItemOutcome, type PoolKey } from './types.js';

/** The ways an item ends without an output, worded the same by both queues. */

export function cancelledOutcome(details = 'the caller went away before a runner answered'): ItemOutcome {
  return { ok: false, code: StatusCode.RUNNER_ITEM_CANCELLED, description: 'Runner item cancelled', details };
}

export function outOfTriesOutcome(attempts: number, reason: string): ItemOutcome {
  return {
    ok: false,
    code: StatusCode.RUNNER_PROCESSING_FAILED,
    description: 'Runner processing failed',
    details: `the request was given to ${attempts} runner${attempts === 1 ? '' : 's'} and none answered (last: ${reason})`,
  };
}

export function notTakenOutcome(pool: PoolKey, waitedMs: number, live: number): ItemOutcome {
  return {
    ok: false,
    code: StatusCode.RUNNER_NEEDS_RETRY,
    description: 'No runner available',
    details:
      live === 0
        ? `nodepool ${poolName(pool)} has no live runner (none took the request within ${Math.round(waitedMs / 1000)} s); start one with \`clarifai runner\``
        : `the ${live} runner${live === 1 ? '' : 's'} of nodepool ${poolName(pool)} did not take the request within ${Math.round(waitedMs / 1000)} s; retry later`,
  };
}

export function unansweredOutcome(limitMs: number): ItemOutcome {
  return {
    ok: false,
    code: StatusCode.RUNNER_PROCESSING_FAILED,
    description: 'Runner processing failed',
    details: `no runner answered within ${Math.round(limitMs / 60_000)} minutes of the request`,
  };
}
