// Samples per second of the exact samplers with the production crypto source, one core.
// Run: npx tsx bench/samplers.bench.ts   (or: npm run bench -- samplers)
import { cryptoRandom } from '../src/dp/random.ts';
import { type Rational, rationalAtLeast, squareAtLeast } from '../src/dp/rational.ts';
import { planDiscreteGaussian, sampleDiscreteGaussian, sampleDiscreteLaplace } from '../src/dp/samplers.ts';

const SECONDS = 1;

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

const rows: Array<[string, string, () => number]> = [];
for (const scale of [0.1, 1, 100, 10_000]) {
  const rational: Rational = rationalAtLeast(scale);
  rows.push(['discrete Laplace', `t = ${scale}`, () => sampleDiscreteLaplace(cryptoRandom, rational)]);
}
for (const sigma of [0.7, 1, 100, 10_000]) {
  const plan = planDiscreteGaussian(squareAtLeast(sigma));
  rows.push(['discrete Gaussian', `σ = ${sigma}`, () => sampleDiscreteGaussian(cryptoRandom, plan)]);
}

console.log(`node ${process.version}, ${SECONDS}s per row, crypto.getRandomValues source`);
console.log('| sampler | scale | samples/s |');
console.log('|---|---|---:|');
for (const [name, scale, sample] of rows) {
  console.log(`| ${name} | ${scale} | ${Math.round(samplesPerSecond(sample)).toLocaleString('en-US')} |`);
}
