/**
 * Training rows grouped by person, the privacy unit (DESIGN.md §3): neighbouring datasets differ by
 * all rows of one person. At most `maxRowsPerPerson` rows per person are kept, chosen uniformly at
 * random by the CSPRNG (never the first ones, which would let row order decide), so a person's
 * influence on a step is bounded by what clipping then enforces.
 *
 * Rows are stored person by person: person p owns rows personStart[p] … personStart[p+1] − 1 of
 * `features` (rowCount × featureCount, scaled to [−1, 1]) and `labels`.
 */
import { cryptoRandom, type RandomSource, uniformInt } from '../dp/random.ts';
import {
  type CellValue,
  checkSchema,
  type DatasetSchema,
  encodeLabel,
  scaleRow,
  type TableRow,
} from './schema.ts';

export interface TrainingDataset {
  readonly schema: DatasetSchema;
  readonly featureCount: number;
  readonly personCount: number;
  readonly rowCount: number;
  readonly features: Float64Array;
  readonly labels: Float64Array;
  /** personCount + 1 offsets into the rows. */
  readonly personStart: Int32Array;
  readonly maxRowsPerPerson: number;
}

export interface DatasetOptions {
  readonly rows: readonly TableRow[];
  readonly schema: DatasetSchema;
  /**
   * The column naming the person each row belongs to. Omit it only for a table with one row per
   * person (then row-level and person-level privacy coincide).
   */
  readonly personColumn?: string;
  /** The policy's rows per person; omitted means 1. */
  readonly maxRowsPerPerson?: number;
  readonly random?: RandomSource;
}

export function buildTrainingDataset(options: DatasetOptions): TrainingDataset {
  const { rows, schema, personColumn } = options;
  checkSchema(schema);
  const maxRowsPerPerson = options.maxRowsPerPerson ?? 1;
  if (!(Number.isSafeInteger(maxRowsPerPerson) && maxRowsPerPerson >= 1))
    throw new RangeError('maxRowsPerPerson must be an integer ≥ 1');
  const random = options.random ?? cryptoRandom;

  const rowsOfPerson = groupByPerson(rows, personColumn);
  const kept: number[][] = [];
  for (const indices of rowsOfPerson) kept.push(randomSubset(indices, maxRowsPerPerson, random));

  const featureCount = schema.features.length;
  const rowCount = kept.reduce((total, indices) => total + indices.length, 0);
  const features = new Float64Array(rowCount * featureCount);
  const labels = new Float64Array(rowCount);
  const personStart = new Int32Array(kept.length + 1);
  let row = 0;
  kept.forEach((indices, person) => {
    personStart[person] = row;
    for (const index of indices) {
      const source = rows[index]!;
      scaleRow(source, schema, features, row * featureCount);
      labels[row] = encodeLabel(source[schema.label.name], schema.label);
      row++;
    }
  });
  personStart[kept.length] = row;
  return {
    schema,
    featureCount,
    personCount: kept.length,
    rowCount,
    features,
    labels,
    personStart,
    maxRowsPerPerson,
  };
}

function groupByPerson(rows: readonly TableRow[], personColumn: string | undefined): number[][] {
  if (personColumn === undefined) return rows.map((_, index) => [index]);
  const groups = new Map<CellValue, number[]>();
  rows.forEach((row, index) => {
    // A bigint and a string id of the same person must meet: key by the id's text.
    const id = row[personColumn];
    const key = typeof id === 'bigint' || typeof id === 'number' ? String(id) : id;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [index]);
    else group.push(index);
  });
  return [...groups.values()];
}

/** `size` of the indices chosen uniformly without replacement (partial Fisher–Yates), or all of them. */
function randomSubset(indices: number[], size: number, random: RandomSource): number[] {
  if (indices.length <= size) return indices;
  const pool = [...indices];
  for (let i = 0; i < size; i++) {
    const j = i + uniformInt(random, pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, size);
}
