import type { NodepoolRecord } from '../../store/index.js';

/** After a failure an endpoint is tried last for this long, then given its chance again. */
const COOL_DOWN_MS = 10_000;

/**
 * Passive health of endpoint nodepools: one that just failed (unreachable, or its engine broke)
 * is moved to the end of a deployment's order for a while, so a failover deployment stops paying
 * a timeout per request for an engine that is down. Per process; each API instance learns alone.
 */
class EndpointHealth {
  private readonly failedAt = new Map<string, number>();

  healthy(pool: NodepoolRecord): boolean {
    const at = this.failedAt.get(key(pool));
    return at === undefined || Date.now() - at > COOL_DOWN_MS;
  }

  failed(pool: NodepoolRecord): void {
    this.failedAt.set(key(pool), Date.now());
  }

  succeeded(pool: NodepoolRecord): void {
    this.failedAt.delete(key(pool));
  }
}

function key(pool: NodepoolRecord): string {
  return `${pool.userId}/${pool.computeClusterId}/${pool.id}`;
}

export const endpointHealth = new EndpointHealth();
