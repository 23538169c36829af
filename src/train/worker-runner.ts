/**
 * Runs a DP-SGD job off the request path, in a `node:worker_threads` Worker, so the HTTP server's
 * event loop stays responsive. Progress arrives as TrainingProgress events (functions of the plan
 * only); cancelling terminates the thread at once. Privacy planning (σ calibration, which takes
 * seconds with the PLD accountant) runs in a worker too, once per setting: the plan is then handed
 * to the training thread, which does not calibrate again.
 *
 * Charging is the caller's job and comes first: the ledger commits the plan's cost before this is
 * called, and a job that fails, is cancelled, or is cut off by a restart keeps its charge (the run
 * may already have touched the data; docs/training.md).
 */
import { Worker } from 'node:worker_threads';
import type { TrainingDataset } from './dataset.ts';
import type { SearchResult, SearchSpec } from './hyperparameter-search.ts';
import type { PlanSetting, PrivacyPlan } from './privacy-plan.ts';
import type { RandomStoppingProgress, SearchProgress, TrainingProgress } from './progress.ts';
import type { RandomStoppingResult, RandomStoppingSpec } from './random-stopping-search.ts';
import { type DpSgdResult, TrainingCancelledError } from './train-dp-sgd.ts';
import type { DpSgdSpec } from './training-spec.ts';
import type { WorkerMessage, WorkerRequest } from './worker-protocol.ts';

export interface WorkerJobOptions<Progress> {
  readonly onProgress?: (progress: Progress) => void;
  /** Aborting terminates the worker; the promise then rejects with TrainingCancelledError. */
  readonly signal?: AbortSignal;
  /** The plan made by `planInWorker` for this run (the worker otherwise plans again). */
  readonly plan?: PrivacyPlan | undefined;
}

/** Raised when the worker fails; carries only the error's class name and stable code. */
export class TrainingFailedError extends Error {
  override readonly name = 'TrainingFailedError';
  constructor(
    readonly code: string,
    readonly errorName: string,
  ) {
    super(`training failed (${code})`);
  }
}

/**
 * The script a training thread starts with. In the compiled build (dist/) the worker module is
 * plain JavaScript. From the sources it is TypeScript, so the thread first registers the tsx loader
 * (the one the server runs under) and then imports it; measured on Node 20, passing `--import tsx`
 * in the worker's execArgv does not reach the worker's entry module. Computed on first use, so that
 * merely importing this module needs no file URL (Workers bundle it but never train).
 */
function bootstrapScript(): string {
  const compiled = import.meta.url.endsWith('.js');
  const workerUrl = new URL(`./training-worker.${compiled ? 'js' : 'ts'}`, import.meta.url).href;
  if (compiled) return `import(${JSON.stringify(workerUrl)});`;
  return `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then(({ register }) => { register(); return import(${JSON.stringify(workerUrl)}); });`;
}

export function runTrainingInWorker(
  spec: DpSgdSpec,
  dataset: TrainingDataset,
  options: WorkerJobOptions<TrainingProgress> & { readonly initialWeights?: Float64Array } = {},
): Promise<DpSgdResult> {
  const request: WorkerRequest = {
    kind: 'train',
    spec,
    dataset,
    initialWeights: options.initialWeights,
    plan: options.plan,
  };
  return runInWorker<DpSgdResult, TrainingProgress>(request, options);
}

/** A hyperparameter search (hyperparameter-search.ts) as a job; charge `searchCost(spec)` first. */
export function runSearchInWorker(
  spec: SearchSpec,
  dataset: TrainingDataset,
  options: WorkerJobOptions<SearchProgress> & { readonly runPlan?: PrivacyPlan | undefined } = {},
): Promise<SearchResult> {
  const request: WorkerRequest = {
    kind: 'search',
    spec,
    dataset,
    plan: options.plan,
    runPlan: options.runPlan,
  };
  return runInWorker<SearchResult, SearchProgress>(request, options);
}

/** A random-stopping search (random-stopping-search.ts) as a job; charge its `cost` first. */
export function runRandomStoppingInWorker(
  spec: RandomStoppingSpec,
  dataset: TrainingDataset,
  options: WorkerJobOptions<RandomStoppingProgress> = {},
): Promise<RandomStoppingResult> {
  return runInWorker<RandomStoppingResult, RandomStoppingProgress>(
    { kind: 'random_stopping', spec, dataset },
    options,
  );
}

const PLAN_CACHE_SIZE = 64;
const plans = new Map<string, Promise<PrivacyPlan>>();

/**
 * The plan of a setting, made in a worker thread; the same setting asked again (a dry run, then
 * the job) is planned once. A plan is a function of its setting alone, so caching it is exact.
 */
export function planInWorker(setting: PlanSetting): Promise<PrivacyPlan> {
  const key = JSON.stringify(setting);
  const cached = plans.get(key);
  if (cached) return cached;
  const plan = runInWorker<PrivacyPlan, never>({ kind: 'plan', setting }, {});
  plans.set(key, plan);
  if (plans.size > PLAN_CACHE_SIZE) plans.delete(plans.keys().next().value!);
  plan.catch(() => plans.delete(key));
  return plan;
}

function runInWorker<Result, Progress>(
  request: WorkerRequest,
  options: WorkerJobOptions<Progress>,
): Promise<Result> {
  const { signal, onProgress } = options;
  if (signal?.aborted)
    return Promise.reject(new TrainingCancelledError('training cancelled before it started'));
  const worker = new Worker(bootstrapScript(), { eval: true, workerData: request });
  return new Promise<Result>((resolve, reject) => {
    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', cancel);
      finish();
    };
    const cancel = (): void => {
      settle(() => reject(new TrainingCancelledError('training cancelled')));
      void worker.terminate();
    };
    signal?.addEventListener('abort', cancel, { once: true });
    worker.on('message', (message: WorkerMessage<Result>) => {
      if (message.type === 'progress') onProgress?.(message.progress as Progress);
      else if (message.type === 'done') settle(() => resolve(message.result));
      else settle(() => reject(new TrainingFailedError(message.code, message.name)));
    });
    worker.on('error', () => settle(() => reject(new TrainingFailedError('worker_error', 'Error'))));
    worker.on('exit', () => settle(() => reject(new TrainingFailedError('worker_exited', 'Error'))));
  });
}
