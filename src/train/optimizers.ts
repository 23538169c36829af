/**
 * Optimizers turn the released noisy gradient into a parameter update. They only ever see that
 * released gradient and their own state, so any optimizer is post-processing and costs no privacy.
 */

/**
 * The learning rate over the run, as a multiple of `learningRate` at step t = 1…T (public: a function
 * of the step count only). `cosine` warms up linearly over `warmupSteps`, then decays along half a
 * cosine to `finalFraction` (Loshchilov & Hutter 2017, SGDR, without restarts); `step` multiplies
 * by `factor` every `every` steps.
 */
export type LearningRateSchedule =
  | { readonly kind: 'constant' }
  | { readonly kind: 'cosine'; readonly warmupSteps?: number; readonly finalFraction?: number }
  | { readonly kind: 'step'; readonly every: number; readonly factor: number };

interface OptimizerCommon {
  readonly learningRate: number;
  /**
   * Decoupled weight decay λ: θ ← θ − η_t·λ·θ besides the gradient step (AdamW; Loshchilov & Hutter
   * 2019, "Decoupled Weight Decay Regularization"). It reads only the parameters: post-processing.
   */
  readonly weightDecay?: number;
  readonly schedule?: LearningRateSchedule;
}

export type OptimizerSpec =
  | (OptimizerCommon & { readonly kind: 'sgd'; readonly momentum?: number })
  | (OptimizerCommon & {
      readonly kind: 'adam';
      readonly beta1?: number;
      readonly beta2?: number;
      readonly epsilon?: number;
    });

export interface Optimizer {
  /** parameters ← parameters − update(gradient); state kept across calls. */
  step(parameters: Float64Array, gradient: Float64Array): void;
}

/** `totalSteps` is the run's T, for schedules that end somewhere (cosine). */
export function createOptimizer(spec: OptimizerSpec, dimension: number, totalSteps = 1): Optimizer {
  if (!(Number.isFinite(spec.learningRate) && spec.learningRate > 0))
    throw new RangeError('learning rate must be > 0');
  const weightDecay = spec.weightDecay ?? 0;
  if (!(weightDecay >= 0 && weightDecay < 1)) throw new RangeError('weight decay must be in [0, 1)');
  const rate = learningRateAt(spec.schedule ?? { kind: 'constant' }, totalSteps);
  const inner = spec.kind === 'sgd' ? sgdWithMomentum(spec, dimension) : adam(spec, dimension);
  let t = 0;
  return {
    step: (parameters, gradient) => {
      t++;
      const learningRate = spec.learningRate * rate(t);
      if (weightDecay > 0) {
        const keep = 1 - learningRate * weightDecay;
        for (let j = 0; j < dimension; j++) parameters[j] = parameters[j]! * keep;
      }
      inner.step(parameters, gradient, learningRate);
    },
  };
}

/** The schedule's multiplier at step t (1-based). */
export function learningRateAt(schedule: LearningRateSchedule, totalSteps: number): (t: number) => number {
  if (schedule.kind === 'constant') return () => 1;
  if (schedule.kind === 'step') {
    const { every, factor } = schedule;
    if (!(Number.isSafeInteger(every) && every >= 1 && factor > 0 && factor <= 1))
      throw new RangeError('a step schedule needs every ≥ 1 and factor in (0, 1]');
    return (t) => factor ** Math.floor((t - 1) / every);
  }
  const warmup = schedule.warmupSteps ?? 0;
  const final = schedule.finalFraction ?? 0;
  if (!(warmup >= 0 && warmup < totalSteps && final >= 0 && final <= 1))
    throw new RangeError('a cosine schedule needs 0 ≤ warmup < steps and final fraction in [0, 1]');
  return (t) => {
    if (t <= warmup) return t / warmup;
    const progress = totalSteps === warmup ? 1 : (t - warmup) / (totalSteps - warmup);
    return final + ((1 - final) * (1 + Math.cos(Math.PI * Math.min(1, progress)))) / 2;
  };
}

interface InnerOptimizer {
  step(parameters: Float64Array, gradient: Float64Array, learningRate: number): void;
}

/** Heavy-ball momentum: v ← μv + g, θ ← θ − ηv (PyTorch's convention). */
function sgdWithMomentum(spec: Extract<OptimizerSpec, { kind: 'sgd' }>, dimension: number): InnerOptimizer {
  const momentum = spec.momentum ?? 0;
  if (!(momentum >= 0 && momentum < 1)) throw new RangeError('momentum must be in [0, 1)');
  const velocity = new Float64Array(dimension);
  return {
    step: (parameters, gradient, learningRate) => {
      for (let j = 0; j < dimension; j++) {
        const v = momentum * velocity[j]! + gradient[j]!;
        velocity[j] = v;
        parameters[j] = parameters[j]! - learningRate * v;
      }
    },
  };
}

/** Adam (Kingma & Ba 2015, Alg. 1) with bias-corrected moments. */
function adam(spec: Extract<OptimizerSpec, { kind: 'adam' }>, dimension: number): InnerOptimizer {
  const beta1 = spec.beta1 ?? 0.9;
  const beta2 = spec.beta2 ?? 0.999;
  const epsilon = spec.epsilon ?? 1e-8;
  if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1))
    throw new RangeError('Adam betas must be in [0, 1)');
  const first = new Float64Array(dimension);
  const second = new Float64Array(dimension);
  let t = 0;
  return {
    step: (parameters, gradient, learningRate) => {
      t++;
      const stepSize = (learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
      for (let j = 0; j < dimension; j++) {
        const g = gradient[j]!;
        const m = beta1 * first[j]! + (1 - beta1) * g;
        const v = beta2 * second[j]! + (1 - beta2) * g * g;
        first[j] = m;
        second[j] = v;
        parameters[j] = parameters[j]! - (stepSize * m) / (Math.sqrt(v) + epsilon);
      }
    },
  };
}
