// How many pods the autoscaler scrapes out of N ready ones (spec §3.2): the sample size that
// estimates the population mean with 95 % confidence and a margin of error of 5, assuming a
// population variance of 100, corrected for a finite population. Pure.

/** X = C² × σ² / MOE² = 1.96² × 100 / 5², folded exactly as Go folds untyped constants. */
export const UNBOUNDED_SAMPLE_SIZE = 15.3664;

/** n = N for N ≤ 3, else ceil(N × X / (N + X − 1)); negative or fractional N is clamped. */
export function sampleSize(population: number): number {
  const n = Math.floor(population);
  if (!(n > 0)) return 0;
  if (n <= 3) return n;
  return Math.ceil((n * UNBOUNDED_SAMPLE_SIZE) / (n + UNBOUNDED_SAMPLE_SIZE - 1));
}
