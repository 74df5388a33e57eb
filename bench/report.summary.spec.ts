import type { ModeId, Sample } from './matrix.rounds.js';
import { summarize, targetChecks } from './report.summary.js';
import type { VariantId } from './scenario.shared.js';

/** A measurement of `variant` in `round`: only throughput and CPU per request matter to the summary. */
function sample(variant: VariantId, round: number, requestsPerSecond: number, mode: ModeId = 'repeated'): Sample {
  return {
    variant,
    round,
    mode,
    adapter: 'express',
    alg: 'ES256',
    requestsPerSecond,
    cpuMicrosPerRequest: 1e6 / requestsPerSecond,
    p50Ms: 1,
    p99Ms: 2,
    serverCpuShare: 1,
    foreignCpuShare: 0,
    stealShare: 0,
    responses: requestsPerSecond,
    statusCounts: { '200': requestsPerSecond },
    errors: 0,
    unexpected: 0,
    reusedTokens: 0,
    quietWaitMs: 0,
  };
}

const ratioToNone = (samples: Sample[], variant: VariantId = 'stepup') =>
  summarize(samples).find((row) => row.variant === variant && row.mode === 'repeated')!.ratioToNone;

describe('summarize: ratios over rounds', () => {
  it('cancels an order effect that favours each end of the order in turn', () => {
    // True ratio 0.9; the server measured last loses 20 %, and the order is reversed every other round.
    const samples = [1, 2, 3, 4, 5].flatMap((round) => {
      const stepupLast = round % 2 === 0;
      return [sample('none', round, stepupLast ? 10_000 : 8_000), sample('stepup', round, stepupLast ? 7_200 : 9_000)];
    });
    // Per round 1.125 (odd rounds) or 0.72 (even): their plain median would be 1.125, three rounds of five.
    expect(ratioToNone(samples)).toBeCloseTo(0.9, 10);
  });

  it('takes the median over pairs, so one disturbed round does not move it', () => {
    const ratios = [0.9, 0.9, 0.9, 0.5, 0.9, 0.9];
    const samples = ratios.flatMap((ratio, index) => [sample('none', index + 1, 10_000), sample('stepup', index + 1, 10_000 * ratio)]);
    expect(ratioToNone(samples)).toBeCloseTo(0.9, 10);
  });

  it('pairs only consecutive rounds, and falls back to single rounds when none are', () => {
    const samples = [sample('none', 1, 10_000), sample('stepup', 1, 9_000), sample('none', 3, 10_000), sample('stepup', 3, 8_000)];
    expect(ratioToNone(samples)).toBeCloseTo(0.85, 10);
    expect(ratioToNone(samples.slice(0, 2))).toBeCloseTo(0.9, 10);
  });

  it('gives NaN, not a figure, when the denominator was never measured', () => {
    expect(ratioToNone([sample('stepup', 1, 9_000), sample('stepup', 2, 9_000)])).toBeNaN();
  });

  it('judges a target on the paired ratio', () => {
    const samples = [1, 2].flatMap((round) => [sample('none', round, 10_000), sample('stepup', round, round === 1 ? 9_400 : 9_700)]);
    const [repeated] = targetChecks(samples, summarize(samples), []);
    expect(repeated).toMatchObject({ target: 'Repeated tokens (cache on) ≥ 0.95 × none', where: 'express ES256', met: true });
    expect(repeated!.measured).toBe(`${Math.sqrt(0.94 * 0.97).toFixed(2)} × none`);
  });
});
