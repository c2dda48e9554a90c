import { describe, expect, it } from 'vitest';
import { actualCost, budgetDay, estimatedCost, secondsUntilNextDay } from './cost';

describe('cost', () => {
  it('reserves the estimate and charges per second when the model says so', () => {
    expect(estimatedCost({ costUnits: 2 })).toBe(2);
    expect(actualCost({ costUnits: 2 }, 9)).toBe(2);
    expect(actualCost({ costUnits: 2, costUnitsPerSecond: 0.5 }, 1.5)).toBe(0.75);
    expect(actualCost({ costUnits: 2, costUnitsPerSecond: 0.5 }, -1)).toBe(0);
  });

  it('counts budgets per UTC day', () => {
    expect(budgetDay(new Date('2026-03-01T23:59:59.999Z'))).toBe('2026-03-01');
    expect(secondsUntilNextDay(new Date('2026-03-01T23:59:00.000Z'))).toBe(60);
    expect(secondsUntilNextDay(new Date('2026-03-01T00:00:00.000Z'))).toBe(86_400);
  });
});
