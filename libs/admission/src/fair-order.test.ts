import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fairOrder, type HeldJob } from './fair-order';
import type { Priority } from '@gpu-jobs/job-contract';

let n = 0;
const job = (tenantId: string, priority: Priority = 'normal'): HeldJob => {
  n += 1;
  return { id: `j${String(n).padStart(4, '0')}`, tenantId, priority, createdAt: new Date(Date.UTC(2026, 0, 1) + n).toISOString() };
};
const even = () => 1;

describe('fairOrder', () => {
  it('a tenant that arrives behind a flood gets the next places', () => {
    const flood = Array.from({ length: 300 }, () => job('a'));
    const late = Array.from({ length: 5 }, () => job('b'));
    const order = fairOrder([...flood, ...late], { a: 4 }, even, 10);
    // b has nothing in flight and a has 4: b catches up, then they alternate (ties to the older job)
    expect(order.map((j) => j.tenantId)).toEqual(['b', 'b', 'b', 'b', 'a', 'b', 'a', 'a', 'a', 'a']);
    expect(fairOrder([...flood, ...late], {}, even, 4).map((j) => j.tenantId)).toEqual(['a', 'b', 'a', 'b']);
  });

  it('tied tenants take turns across rounds: the one served longest ago goes first', () => {
    const held = [job('a'), job('a'), job('b'), job('b')];
    expect(fairOrder(held, {}, even, 1, { a: 1_000, b: 2_000 })[0]?.tenantId).toBe('a');
    expect(fairOrder(held, {}, even, 1, { a: 2_000, b: 1_000 })[0]?.tenantId).toBe('b');
    expect(fairOrder(held, {}, even, 1, { a: 2_000 })[0]?.tenantId).toBe('b'); // never served comes first
    // one place at a time, feeding back when each tenant was last served: strict alternation
    const last: Record<string, number> = {};
    const order: string[] = [];
    let pool = [...Array.from({ length: 5 }, () => job('a')), ...Array.from({ length: 5 }, () => job('b'))];
    for (let t = 1; t <= 6; t++) {
      const [next] = fairOrder(pool, {}, even, 1, last);
      order.push(next!.tenantId);
      last[next!.tenantId] = t;
      pool = pool.filter((j) => j !== next);
    }
    expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
  });

  it("orders a tenant's own jobs by priority, then age", () => {
    const low = Array.from({ length: 100 }, () => job('a', 'low'));
    const high = job('a', 'high');
    const normal = job('a');
    expect(fairOrder([...low, normal, high], {}, even, 3).map((j) => j.id)).toEqual([high.id, normal.id, low[0]?.id]);
  });

  it("priority does not take another tenant's share", () => {
    const highs = Array.from({ length: 10 }, () => job('a', 'high'));
    const lows = Array.from({ length: 10 }, () => job('b', 'low'));
    expect(fairOrder([...highs, ...lows], {}, even, 4).map((j) => j.tenantId)).toEqual(['a', 'b', 'a', 'b']);
  });

  it('weights share places in proportion', () => {
    const held = [...Array.from({ length: 50 }, () => job('a')), ...Array.from({ length: 50 }, () => job('b'))];
    const order = fairOrder(held, {}, (t) => (t === 'a' ? 3 : 1), 40);
    expect(order.filter((j) => j.tenantId === 'a')).toHaveLength(30);
  });

  it('invariants: never more than slots, no job twice, every pick from the least-served tenant', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ tenant: fc.constantFrom('a', 'b', 'c'), priority: fc.constantFrom<Priority>('high', 'normal', 'low') }), {
          maxLength: 60,
        }),
        fc.record({ a: fc.nat(5), b: fc.nat(5), c: fc.nat(5) }),
        fc.nat(30),
        (specs, inFlight, slots) => {
          const held = specs.map((s) => job(s.tenant, s.priority));
          const order = fairOrder(held, inFlight, even, slots);
          expect(order.length).toBe(Math.min(slots, held.length));
          expect(new Set(order.map((j) => j.id)).size).toBe(order.length);
          const load: Record<string, number> = { ...inFlight };
          const left = new Map(['a', 'b', 'c'].map((t) => [t, held.filter((j) => j.tenantId === t).length]));
          for (const j of order) {
            const waiting = [...left].filter(([, c]) => c > 0).map(([t]) => load[t] ?? 0);
            expect(load[j.tenantId] ?? 0).toBe(Math.min(...waiting));
            load[j.tenantId] = (load[j.tenantId] ?? 0) + 1;
            left.set(j.tenantId, (left.get(j.tenantId) ?? 0) - 1);
          }
        },
      ),
    );
  });
});
