// Samples per second of the exact samplers with the production crypto source, one core.
// Run: npx tsx bench/samplers.bench.ts [--baseline=DIR]   (or: npm run bench -- samplers)
// --baseline=DIR: another dpgate's sources (DIR/src, e.g. `git archive <commit> src | tar -x -C DIR`);
// every row is then also run with its samplers, interleaved three times (A B A B A B), with the
// ratio of medians.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cryptoRandom } from '../src/dp/random.ts';
import { type Rational, rationalAtLeast, squareAtLeast } from '../src/dp/rational.ts';
import * as current from '../src/dp/samplers.ts';

const SECONDS = 1;
const ROUNDS = 3;
type Samplers = typeof current;

function samplesPerSecond(sample: () => number): number {
  let sink = 0;
  for (let i = 0; i < 200_000; i++) sink += sample(); // warm up the JIT
  let count = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 10_000; i++) sink += sample();
    count += 10_000;
  }
  if (sink === Number.MIN_VALUE) console.log(sink); // keep the work observable
  return count / ((performance.now() - start) / 1000);
}

function rows(samplers: Samplers): Array<[string, string, () => number]> {
  const result: Array<[string, string, () => number]> = [];
  for (const scale of [0.1, 1, 100, 10_000]) {
    const rational: Rational = rationalAtLeast(scale);
    result.push([
      'discrete Laplace',
      `t = ${scale}`,
      () => samplers.sampleDiscreteLaplace(cryptoRandom, rational),
    ]);
  }
  // 1,048,595 = 2^20 + √1409/2 rounded: DP-SGD's grid noise for the 1,409-parameter MLP at σ = 1.
  for (const sigma of [0.7, 1, 100, 10_000, 1_048_595]) {
    const plan = samplers.planDiscreteGaussian(squareAtLeast(sigma));
    result.push([
      'discrete Gaussian',
      `σ = ${sigma}`,
      () => samplers.sampleDiscreteGaussian(cryptoRandom, plan),
    ]);
  }
  return result;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const format = (rate: number): string => Math.round(rate).toLocaleString('en-US');
const baselineDir = process.argv.find((arg) => arg.startsWith('--baseline='))?.slice('--baseline='.length);
const baseline: Samplers | undefined = baselineDir
  ? await import(pathToFileURL(resolve(baselineDir, 'src/dp/samplers.ts')).href)
  : undefined;
const baselineRows = baseline ? rows(baseline) : [];

console.log(`node ${process.version}, ${SECONDS}s per row, crypto.getRandomValues source`);
console.log(`| sampler | scale | samples/s |${baseline ? ' baseline | ratio |' : ''}`);
console.log(`|---|---|---:|${baseline ? '---:|---:|' : ''}`);
for (const [i, [name, scale, sample]] of rows(current).entries()) {
  if (!baseline) {
    console.log(`| ${name} | ${scale} | ${format(samplesPerSecond(sample))} |`);
    continue;
  }
  const now: number[] = [];
  const before: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    now.push(samplesPerSecond(sample));
    before.push(samplesPerSecond(baselineRows[i]![2]));
  }
  const ratio = (median(now) / median(before)).toFixed(2);
  console.log(`| ${name} | ${scale} | ${format(median(now))} | ${format(median(before))} | ${ratio}× |`);
}
