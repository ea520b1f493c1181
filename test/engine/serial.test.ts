import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { SerialQueue } from '../../src/engine/serial.js';

describe('SerialQueue', () => {
  it('runs one job at a time, in call order, past failures', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    const job = (name: string, ms: number, fail = false) =>
      queue.run(async () => {
        running += 1;
        assert.equal(running, 1);
        log.push(`start ${name}`);
        await sleep(ms);
        running -= 1;
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([job('a', 20), job('b', 1, true), job('c', 5)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
