// Time to account 100,000 DP-SGD steps with each accountant (targets: RDP < 1 s, PLD < 5 s),
// plus a σ calibration. Run: npx tsx bench/accounting.bench.ts
import { dpSgdEpsilonByPld, dpSgdEpsilonByRdp, dpSgdSigma } from '../src/dp/accounting/index.ts';

const REPEATS = 3;

function time<T>(label: string, work: () => T): void {
  const durations: number[] = [];
  let result: T | undefined;
  for (let i = 0; i < REPEATS; i++) {
    const started = performance.now();
    result = work();
    durations.push(performance.now() - started);
  }
  durations.sort((a, b) => a - b);
  const median = durations[Math.floor(REPEATS / 2)]!.toFixed(0);
  console.log(`${label.padEnd(58)} median ${median.padStart(5)} ms of ${REPEATS}  ${JSON.stringify(result)}`);
}

const settings = [
  { name: 'MNIST q=256/60000 σ=1.1', q: 256 / 60_000, sigma: 1.1, steps: 100_000, delta: 1e-5 },
  { name: 'q=0.01 σ=4', q: 0.01, sigma: 4, steps: 100_000, delta: 1e-5 },
];
console.log(`node ${process.version}, 100,000 steps, δ = 1e-5`);
for (const { name, ...setting } of settings) {
  time(`rdp  ${name}`, () => dpSgdEpsilonByRdp(setting).epsilon);
  time(`pld  ${name}`, () => dpSgdEpsilonByPld(setting).epsilon);
}
time(
  'sigma (pld) for ε=1, q=0.01, T=10,000',
  () => dpSgdSigma({ epsilon: 1, delta: 1e-5, q: 0.01, steps: 10_000, accountant: 'pld' }).sigma,
);
