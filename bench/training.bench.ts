// DP-SGD throughput (expected examples per CPU-second) on generated 50,000 × 20 datasets, expected
// batch 256, one core, production CSPRNG: the median of interleaved runs (model A, B, C, A, B, C…);
// then wdbc test accuracy at ε = 1, 3, 8 (mean of 5 seeded runs).
// Run: npx tsx bench/training.bench.ts [--runs=5] [--skip-accuracy] [--skip-throughput] [--seeds=5]
//        [--models=logistic,mlp-64,mlp-256-256,mlp-256-256-softmax10]
//        [--baseline=DIR] [--reference-command="CMD" --reference-name=NAME --reference-models=a,b]
// Same-machine comparisons, each interleaved run by run with dpgate's own runs, ratio of medians:
//  --baseline=DIR        another dpgate's sources and package files (`git archive <commit> src
//                        package.json tsconfig.json | tar -x -C DIR`; without package.json tsx loads
//                        DIR/src as CommonJS, measured 2.4× slower for the same code), every model run
//                        with both;
//  --reference-command   a command run once per run beside each reference model (every selected model
//                        by default), with ` --model=NAME --steps=N` appended and one thread
//                        (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS = 1 in its environment),
//                        printing that setting's expected examples per CPU-second as its last line,
//                        e.g. `python3 bench/opacus-reference.py`.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

/** Features uniform in [−1, 1]; the label is the argmax of `classes` random projections (sign for 2). */
function generatedDataset(classes: number): TrainingDataset {
  const uniform = (): number => cryptoRandom.nextUint32() / 2 ** 32;
  const projections = Array.from({ length: classes === 2 ? 1 : classes }, () =>
    Array.from({ length: FEATURES }, () => 2 * uniform() - 1),
  );
  const rows: TableRow[] = Array.from({ length: ROWS }, () => {
    const x = Array.from({ length: FEATURES }, () => 2 * uniform() - 1);
    const scores = projections.map((w) => x.reduce((sum, value, j) => sum + value * w[j]!, 0));
    const y = classes === 2 ? (scores[0]! > 0 ? 1 : 0) : scores.indexOf(Math.max(...scores));
    return { ...Object.fromEntries(x.map((value, j) => [`x${j}`, value])), y };
  });
  const schema: DatasetSchema = {
    features: Array.from({ length: FEATURES }, (_, j) => ({ name: `x${j}`, lower: -1, upper: 1 })),
    label: classes === 2 ? { kind: 'binary', name: 'y' } : { kind: 'class', name: 'y', classes },
  };
  return buildTrainingDataset({ rows, schema });
}

interface BenchModel {
  readonly name: string;
  readonly label: string;
  readonly model: ModelSpec;
  readonly classes: number;
  readonly steps: number;
}

const ALL_MODELS: readonly BenchModel[] = [
  { name: 'logistic', label: 'logistic', model: { kind: 'logistic' }, classes: 2, steps: 1000 },
  {
    name: 'mlp-64',
    label: 'mlp 20-64-1, relu',
    model: { kind: 'mlp', hidden: [64], activation: 'relu', output: { kind: 'binary' } },
    classes: 2,
    steps: 300,
  },
  {
    name: 'mlp-256-256',
    label: 'mlp 20-256-256-1, relu',
    model: { kind: 'mlp', hidden: [256, 256], activation: 'relu', output: { kind: 'binary' } },
    classes: 2,
    steps: 20,
  },
  {
    name: 'mlp-256-256-softmax10',
    label: 'mlp 20-256-256-10, relu, softmax',
    model: {
      kind: 'mlp',
      hidden: [256, 256],
      activation: 'relu',
      output: { kind: 'multiclass', classes: 10 },
    },
    classes: 10,
    steps: 20,
  },
];

const onlyModels = option('models')?.split(',');
const MODELS = ALL_MODELS.filter((bench) => !onlyModels || onlyModels.includes(bench.name));

function spec(bench: BenchModel, steps: number): DpSgdSpec {
  return {
    model: bench.model,
    clipNorm: 1,
    sampling: { expectedBatchSize: BATCH, populationSize: ROWS },
    steps,
    optimizer: { kind: 'sgd', learningRate: 0.1, momentum: 0.9 },
    privacy: { accountant: 'rdp', delta: 1e-5, noiseMultiplier: 1 },
  };
}

type Train = typeof trainDpSgd;

/** Expected examples per second of this process's CPU time (user + system) for one run. */
function cpuRate(bench: BenchModel, dataset: TrainingDataset, train: Train = trainDpSgd): number {
  const before = process.cpuUsage();
  train(spec(bench, bench.steps), dataset);
  const used = process.cpuUsage(before);
  return (bench.steps * BATCH) / ((used.user + used.system) / 1e6);
}

const ONE_THREAD = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

/** The reference command's figure for one model: the last line of its output, a number. */
function referenceRate(command: string, bench: BenchModel): number {
  const lines = execSync(`${command} --model=${bench.name} --steps=${bench.steps}`, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, ...ONE_THREAD },
  })
    .trim()
    .split('\n');
  const rate = Number(lines.at(-1));
  if (!(rate > 0)) throw new Error(`--reference-command printed ${lines.at(-1)}, not a rate`);
  return rate;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

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

function wdbcAccuracy(
  spec: DpSgdSpec,
  seeds: number,
  run: Train = trainDpSgd,
): { mean: number; min: number; max: number } {
  const train = loadWdbc('train');
  const test = loadWdbc('test');
  const accuracies = Array.from({ length: seeds }, (_, s) => {
    const random = seededRandom(1000 + s);
    const dataset = buildTrainingDataset({ rows: train, schema: WDBC_SCHEMA, random });
    const predictions = predict(run(spec, dataset, { random }), test);
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

const runs = Number(option('runs') ?? 5);
const throughputWanted = !process.argv.includes('--skip-throughput');
const referenceCommand = option('reference-command');
const referenceName = option('reference-name') ?? 'reference';
const referenceModels = option('reference-models')?.split(',') ?? MODELS.map((bench) => bench.name);
const baselineDir = option('baseline');
if (baselineDir && !existsSync(resolve(baselineDir, 'package.json')))
  throw new Error(`--baseline=${baselineDir} has no package.json: copy it (and tsconfig.json) beside src/`);
const baseline: Train | undefined = baselineDir
  ? (await import(pathToFileURL(resolve(baselineDir, 'src/train/train-dp-sgd.ts')).href)).trainDpSgd
  : undefined;
const datasets = new Map([2, 10].map((classes) => [classes, generatedDataset(classes)]));
const format = (rate: number): string => Math.round(rate).toLocaleString('en-US');
const range = (values: readonly number[]): string =>
  `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
for (const bench of MODELS) {
  // warm up the JIT
  trainDpSgd(spec(bench, 5), datasets.get(bench.classes)!);
  baseline?.(spec(bench, 5), datasets.get(bench.classes)!);
}
const rates = new Map(MODELS.map((bench) => [bench.name, [] as number[]]));
const baselineRates = new Map(MODELS.map((bench) => [bench.name, [] as number[]]));
const referenceRates = new Map(MODELS.map((bench) => [bench.name, [] as number[]]));
for (let run = 0; throughputWanted && run < runs; run++)
  for (const bench of MODELS) {
    const dataset = datasets.get(bench.classes)!;
    // A B on even runs, B A on odd ones: garbage a run leaves is collected in the next run's time.
    if (baseline && run % 2 === 1) baselineRates.get(bench.name)!.push(cpuRate(bench, dataset, baseline));
    rates.get(bench.name)!.push(cpuRate(bench, dataset));
    if (baseline && run % 2 === 0) baselineRates.get(bench.name)!.push(cpuRate(bench, dataset, baseline));
    if (referenceCommand && referenceModels.includes(bench.name))
      referenceRates.get(bench.name)!.push(referenceRate(referenceCommand, bench));
  }

if (throughputWanted) printThroughput();
if (process.argv.includes('--skip-accuracy')) process.exit(0);

function printThroughput(): void {
  console.log(
    `node ${process.version}; ${ROWS} × ${FEATURES}, expected batch ${BATCH}, σ = 1, C = 1, one core; median of ${runs} interleaved runs`,
  );
  const extra = [
    ...(baseline ? [`baseline (${baselineDir})`, 'ratio'] : []),
    ...(referenceCommand ? [referenceName, 'ratio'] : []),
  ];
  console.log(
    `| model | parameters | steps | expected examples per CPU-second (median, min–max) |${extra.map((cell) => ` ${cell} |`).join('')}`,
  );
  console.log(`|---|---:|---:|---:|${extra.map(() => '---:|').join('')}`);
  const ratio = (a: readonly number[], b: readonly number[]): string =>
    `${(median(a) / median(b)).toFixed(2)}×`;
  for (const bench of MODELS) {
    const values = rates.get(bench.name)!;
    const parameters = trainDpSgd(spec(bench, 1), datasets.get(bench.classes)!).parameters.length;
    const cells = [bench.label, String(parameters), String(bench.steps), range(values)];
    if (baseline) {
      const before = baselineRates.get(bench.name)!;
      cells.push(range(before), ratio(values, before));
    }
    if (referenceCommand)
      cells.push(
        ...(referenceModels.includes(bench.name)
          ? [range(referenceRates.get(bench.name)!), ratio(values, referenceRates.get(bench.name)!)]
          : ['', '']),
      );
    console.log(`| ${cells.join(' | ')} |`);
  }
}

const seeds = Number(option('seeds') ?? 5);
console.log(
  `\nwdbc test accuracy, δ = 1e-5, RDP accountant, mean (min–max) of ${seeds} seeded runs${baseline ? '; each cell also with the baseline, interleaved by ε' : ''}`,
);
console.log('| model | | ε = 1 | ε = 3 | ε = 8 |');
console.log('|---|---|---|---|---|');
const cell = ({ mean, min, max }: { mean: number; min: number; max: number }): string =>
  `${mean.toFixed(3)} (${min.toFixed(3)}–${max.toFixed(3)})`;
for (const [name, base] of Object.entries(WDBC_MODELS)) {
  const now: string[] = [];
  const before: string[] = [];
  for (const epsilon of [1, 3, 8]) {
    const setting: DpSgdSpec = { ...base, privacy: { accountant: 'rdp', delta: 1e-5, epsilon } };
    now.push(cell(wdbcAccuracy(setting, seeds)));
    if (baseline) before.push(cell(wdbcAccuracy(setting, seeds, baseline)));
  }
  console.log(`| ${name} | ${baseline ? 'now' : ''} | ${now.join(' | ')} |`);
  if (baseline) console.log(`| | baseline | ${before.join(' | ')} |`);
}
