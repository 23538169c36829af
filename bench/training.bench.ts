// DP-SGD throughput (expected examples per second) on a generated 50,000 × 20 dataset, expected
// batch 256, one core, production CSPRNG, best of 3 runs; then wdbc test accuracy at ε = 1, 3, 8
// (mean of 5 seeded runs).
// Run: npx tsx bench/training.bench.ts   (or: npm run bench -- training)
import { cryptoRandom } from '../src/dp/random.ts';
import { buildTrainingDataset, type TrainingDataset } from '../src/train/dataset.ts';
import type { ModelSpec } from '../src/train/models/model.ts';
import { predict } from '../src/train/predict.ts';
import type { DatasetSchema, TableRow } from '../src/train/schema.ts';
import { trainDpSgd } from '../src/train/train-dp-sgd.ts';
import type { DpSgdSpec } from '../src/train/training-spec.ts';
import { loadWdbc, WDBC_SCHEMA, WDBC_TRAIN_SIZE } from '../test/fixtures/wdbc.ts';
import { seededRandom } from '../test/support/seeded-random.ts';

const ROWS = 50_000;
const FEATURES = 20;
const BATCH = 256;

function generatedDataset(): TrainingDataset {
  const uniform = (): number => cryptoRandom.nextUint32() / 2 ** 32;
  const weights = Array.from({ length: FEATURES }, () => 2 * uniform() - 1);
  const rows: TableRow[] = Array.from({ length: ROWS }, () => {
    const x = Array.from({ length: FEATURES }, () => 2 * uniform() - 1);
    const score = x.reduce((sum, value, j) => sum + value * weights[j]!, 0);
    return { ...Object.fromEntries(x.map((value, j) => [`x${j}`, value])), y: score > 0 ? 1 : 0 };
  });
  const schema: DatasetSchema = {
    features: Array.from({ length: FEATURES }, (_, j) => ({ name: `x${j}`, lower: -1, upper: 1 })),
    label: { kind: 'binary', name: 'y' },
  };
  return buildTrainingDataset({ rows, schema });
}

const MLP_64: ModelSpec = { kind: 'mlp', hidden: [64], activation: 'relu', output: { kind: 'binary' } };

/**
 * Expected examples per second by wall clock and by this process's
 * CPU time (user + system), best of `runs`. The CPU-time figure is the one that stays meaningful
 * when other jobs share the machine's two vCPUs; with the machine idle the two agree.
 */
function throughput(model: ModelSpec, dataset: TrainingDataset, steps: number, runs: number) {
  const spec: DpSgdSpec = {
    model,
    clipNorm: 1,
    sampling: { expectedBatchSize: BATCH, populationSize: ROWS },
    steps,
    optimizer: { kind: 'sgd', learningRate: 0.1, momentum: 0.9 },
    privacy: { accountant: 'rdp', delta: 1e-5, noiseMultiplier: 1 },
  };
  trainDpSgd({ ...spec, steps: 50 }, dataset); // warm up the JIT
  let wall = 0;
  let cpu = 0;
  for (let run = 0; run < runs; run++) {
    const before = process.cpuUsage();
    const started = performance.now();
    trainDpSgd(spec, dataset);
    wall = Math.max(wall, (steps * BATCH) / ((performance.now() - started) / 1000));
    const used = process.cpuUsage(before);
    cpu = Math.max(cpu, (steps * BATCH) / ((used.user + used.system) / 1e6));
  }
  return { wall, cpu };
}

const WDBC_MODELS: Record<string, Omit<DpSgdSpec, 'privacy'>> = {
  logistic: {
    model: { kind: 'logistic' },
    clipNorm: 1,
    sampling: { expectedBatchSize: 128, populationSize: WDBC_TRAIN_SIZE },
    steps: 100,
    optimizer: { kind: 'adam', learningRate: 0.1 },
  },
  mlp: {
    model: { kind: 'mlp', hidden: [16], activation: 'tanh', output: { kind: 'binary' } },
    clipNorm: 1,
    sampling: { expectedBatchSize: 128, populationSize: WDBC_TRAIN_SIZE },
    steps: 100,
    optimizer: { kind: 'adam', learningRate: 0.05 },
  },
};

function wdbcAccuracy(spec: DpSgdSpec, seeds: number): { mean: number; min: number; max: number } {
  const train = loadWdbc('train');
  const test = loadWdbc('test');
  const accuracies = Array.from({ length: seeds }, (_, s) => {
    const random = seededRandom(1000 + s);
    const dataset = buildTrainingDataset({ rows: train, schema: WDBC_SCHEMA, random });
    const predictions = predict(trainDpSgd(spec, dataset, { random }), test);
    return (
      predictions.filter((p, i) => p.kind === 'binary' && p.label === test[i]!.label).length / test.length
    );
  });
  return {
    mean: accuracies.reduce((a, b) => a + b) / seeds,
    min: Math.min(...accuracies),
    max: Math.max(...accuracies),
  };
}

const dataset = generatedDataset();
console.log(
  `node ${process.version}; ${ROWS} × ${FEATURES}, expected batch ${BATCH}, σ = 1, C = 1, one core`,
);
console.log('| model | parameters | steps | expected examples/s (wall) | expected examples/s (CPU time) |');
console.log('|---|---:|---:|---:|---:|');
const format = (rate: number): string => Math.round(rate).toLocaleString('en-US');
for (const [name, model, steps] of [
  ['logistic', { kind: 'logistic' }, 2000],
  ['mlp (20-64-1, relu)', MLP_64, 600],
] as const) {
  const parameters = name === 'logistic' ? FEATURES + 1 : (FEATURES + 1) * 64 + 65;
  const { wall, cpu } = throughput(model, dataset, steps, 3);
  console.log(`| ${name} | ${parameters} | ${steps} | ${format(wall)} | ${format(cpu)} |`);
}

console.log('\nwdbc test accuracy, δ = 1e-5, RDP accountant, mean (min–max) of 5 seeded runs');
console.log('| model | ε = 1 | ε = 3 | ε = 8 |');
console.log('|---|---|---|---|');
for (const [name, base] of Object.entries(WDBC_MODELS)) {
  const cells = [1, 3, 8].map((epsilon) => {
    const { mean, min, max } = wdbcAccuracy(
      { ...base, privacy: { accountant: 'rdp', delta: 1e-5, epsilon } },
      5,
    );
    return `${mean.toFixed(3)} (${min.toFixed(3)}–${max.toFixed(3)})`;
  });
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
