/**
 * Holding out persons (never single rows: a person's rows stay together) for private evaluation or
 * model selection. Each person is held out by one Bernoulli trial on the CSPRNG, so which persons
 * are held out depends on no value in the data. Training then sees only the other persons, and the
 * held-out part pays its own cost (private-evaluation.ts); the two compose.
 */
import { cryptoRandom, type RandomSource } from '../dp/random.ts';
import type { TrainingDataset } from './dataset.ts';
import { isSampled, samplingThreshold } from './poisson-sampling.ts';

export function splitByPerson(
  dataset: TrainingDataset,
  heldOutFraction: number,
  random: RandomSource = cryptoRandom,
): { readonly train: TrainingDataset; readonly heldOut: TrainingDataset } {
  const threshold = samplingThreshold(heldOutFraction);
  const train: number[] = [];
  const heldOut: number[] = [];
  for (let person = 0; person < dataset.personCount; person++) {
    (isSampled(random, threshold) ? heldOut : train).push(person);
  }
  return { train: subset(dataset, train), heldOut: subset(dataset, heldOut) };
}

function subset(dataset: TrainingDataset, persons: readonly number[]): TrainingDataset {
  const { featureCount, personStart } = dataset;
  const rowCount = persons.reduce((total, p) => total + personStart[p + 1]! - personStart[p]!, 0);
  const features = new Float64Array(rowCount * featureCount);
  const labels = new Float64Array(rowCount);
  const starts = new Int32Array(persons.length + 1);
  let row = 0;
  persons.forEach((person, index) => {
    starts[index] = row;
    for (let source = personStart[person]!; source < personStart[person + 1]!; source++, row++) {
      features.set(
        dataset.features.subarray(source * featureCount, (source + 1) * featureCount),
        row * featureCount,
      );
      labels[row] = dataset.labels[source]!;
    }
  });
  starts[persons.length] = row;
  return { ...dataset, personCount: persons.length, rowCount, features, labels, personStart: starts };
}
