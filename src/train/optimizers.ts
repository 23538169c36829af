/**
 * Optimizers turn the released noisy gradient into a parameter update. They only ever see that
 * released gradient and their own state, so any optimizer is post-processing and costs no privacy.
 */

export type OptimizerSpec =
  | { readonly kind: 'sgd'; readonly learningRate: number; readonly momentum?: number }
  | {
      readonly kind: 'adam';
      readonly learningRate: number;
      readonly beta1?: number;
      readonly beta2?: number;
      readonly epsilon?: number;
    };

export interface Optimizer {
  /** parameters ← parameters − update(gradient); state kept across calls. */
  step(parameters: Float64Array, gradient: Float64Array): void;
}

export function createOptimizer(spec: OptimizerSpec, dimension: number): Optimizer {
  if (!(Number.isFinite(spec.learningRate) && spec.learningRate > 0))
    throw new RangeError('learning rate must be > 0');
  return spec.kind === 'sgd' ? sgdWithMomentum(spec, dimension) : adam(spec, dimension);
}

/** Heavy-ball momentum: v ← μv + g, θ ← θ − ηv (PyTorch's convention). */
function sgdWithMomentum(spec: Extract<OptimizerSpec, { kind: 'sgd' }>, dimension: number): Optimizer {
  const momentum = spec.momentum ?? 0;
  if (!(momentum >= 0 && momentum < 1)) throw new RangeError('momentum must be in [0, 1)');
  const velocity = new Float64Array(dimension);
  return {
    step: (parameters, gradient) => {
      for (let j = 0; j < dimension; j++) {
        const v = momentum * velocity[j]! + gradient[j]!;
        velocity[j] = v;
        parameters[j] = parameters[j]! - spec.learningRate * v;
      }
    },
  };
}

/** Adam (Kingma & Ba 2015, Alg. 1) with bias-corrected moments. */
function adam(spec: Extract<OptimizerSpec, { kind: 'adam' }>, dimension: number): Optimizer {
  const beta1 = spec.beta1 ?? 0.9;
  const beta2 = spec.beta2 ?? 0.999;
  const epsilon = spec.epsilon ?? 1e-8;
  if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1))
    throw new RangeError('Adam betas must be in [0, 1)');
  const first = new Float64Array(dimension);
  const second = new Float64Array(dimension);
  let t = 0;
  return {
    step: (parameters, gradient) => {
      t++;
      const stepSize = (spec.learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
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
