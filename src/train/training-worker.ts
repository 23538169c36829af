/**
 * The worker-thread side of a training job (worker-runner.ts starts it): runs trainDpSgd, or a
 * hyperparameter search, on the data it is sent (or plans a run's privacy, which needs no data), with the production CSPRNG, and posts progress and
 * the result back. Nothing but the progress fields and the final model(s) leaves the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { searchHyperparameters } from './hyperparameter-search.ts';
import { planPrivacy } from './privacy-plan.ts';
import type { RandomStoppingProgress, SearchProgress, TrainingProgress } from './progress.ts';
import { randomStoppingSearch } from './random-stopping-search.ts';
import { trainDpSgd } from './train-dp-sgd.ts';
import type { WorkerMessage, WorkerRequest, WorkerResult } from './worker-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('training-worker.ts must run in a worker thread');
const request = workerData as WorkerRequest;
const post = (message: WorkerMessage<WorkerResult>): void => port.postMessage(message);
const onProgress = (progress: TrainingProgress | SearchProgress | RandomStoppingProgress): void =>
  post({ type: 'progress', progress });

try {
  post({ type: 'done', result: run(request) });
} catch (error) {
  // Only the error's class and code cross: messages from inside training could in principle name
  // data-dependent values, and DESIGN.md §4 forbids errors carrying private values.
  const code = error instanceof Error && 'code' in error ? String(error.code) : 'training_failed';
  post({ type: 'failed', code, name: error instanceof Error ? error.name : 'Error' });
}

function run(request: WorkerRequest): WorkerResult {
  if (request.kind === 'plan') return planPrivacy(request.setting);
  if (request.kind === 'random_stopping')
    return randomStoppingSearch(request.spec, request.dataset, { onProgress });
  const plan = request.plan === undefined ? {} : { plan: request.plan };
  if (request.kind === 'search')
    return searchHyperparameters(request.spec, request.dataset, {
      onProgress,
      ...plan,
      runPlan: request.runPlan,
    });
  const initialWeights =
    request.initialWeights === undefined ? {} : { initialWeights: request.initialWeights };
  return trainDpSgd(request.spec, request.dataset, { onProgress, ...plan, ...initialWeights });
}
