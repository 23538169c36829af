import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  ACCOUNTANT_NAMES,
  type AccountantName,
  AccountingInputError,
  dpSgdEpsilonByPld,
  dpSgdEpsilonByRdp,
  dpSgdSigma,
} from '../dp/accounting/index.ts';
import { resolveJob } from '../jobs/federated-training.ts';
import { jobCost, TrainingRefusal, TrainingRequestSchema } from '../jobs/training-request.ts';
import { formatIssue } from '../policy/issues.ts';
import { readPolicyDirectory } from '../policy/load-directory.ts';
import { ROLES, type Role } from '../policy/schema.ts';
import { validatePolicyFiles } from '../policy/validate.ts';
import { planPrivacy } from '../train/index.ts';

/**
 * `dpgate privacy epsilon|sigma`: the DP-SGD calculators (like TF Privacy's
 * compute_dp_sgd_privacy and Opacus' get_noise_multiplier) over the accountants in
 * src/dp/accounting. Prints one JSON object per run through the command's configured output;
 * bad input exits non-zero with a one-line reason. `dpgate privacy job` prices a whole training
 * request (the body of POST /v1/training-jobs) against a policy directory, offline: the same cost
 * object a dry run returns, with no database and no data.
 */
export function privacyCommand(): Command {
  const privacy = new Command('privacy').description(
    'DP-SGD privacy accounting: ε for a run, or σ for a target ε',
  );

  addSamplingOptions(
    privacy
      .command('epsilon')
      .description('ε of a DP-SGD run at δ')
      .requiredOption('--sigma <sigma>', 'noise multiplier σ (noise std / clipping norm)', parseNumber),
  ).action(function (this: Command) {
    const options = this.opts<SamplingOptions & { sigma: number }>();
    runChecked(this, () => {
      const setting = { ...sampling(options), sigma: options.sigma, delta: options.delta };
      if (options.accountant === 'rdp') {
        const { epsilon, order } = dpSgdEpsilonByRdp(setting);
        return { epsilon, accountant: 'rdp', ...setting, order };
      }
      const { epsilon, step } = dpSgdEpsilonByPld(setting);
      return { epsilon, accountant: 'pld', ...setting, grid_step: step };
    });
  });

  addSamplingOptions(
    privacy
      .command('sigma')
      .description('smallest noise multiplier σ whose ε at δ meets the target')
      .requiredOption('--epsilon <epsilon>', 'target ε', parseNumber)
      .option('--tolerance <fraction>', 'relative precision of σ', parseNumber, 1e-3),
  ).action(function (this: Command) {
    const options = this.opts<SamplingOptions & { epsilon: number; tolerance: number }>();
    runChecked(this, () => {
      const { q, steps } = sampling(options);
      const request = {
        epsilon: options.epsilon,
        delta: options.delta,
        q,
        steps,
        accountant: options.accountant,
      };
      const { sigma, epsilon } = dpSgdSigma({ ...request, tolerance: options.tolerance });
      return {
        sigma,
        accountant: options.accountant,
        epsilon,
        target_epsilon: options.epsilon,
        delta: options.delta,
        q,
        steps,
      };
    });
  });
  privacy
    .command('job')
    .description('the full cost of a training request (POST /v1/training-jobs body) under a policy, offline')
    .argument('<request>', 'JSON file with the request body, or - for stdin')
    .option('--policy-dir <dir>', 'policy directory', process.env.DPGATE_POLICY_DIR || 'policies')
    .addOption(new Option('--role <role>', 'role sending the request').choices(ROLES).default('analyst'))
    .action(async function (this: Command, file: string) {
      const options = this.opts<{ policyDir: string; role: Role }>();
      const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
      const parsed = TrainingRequestSchema.safeParse(parseJson(this, text));
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
        this.error(`error: ${issues.join('; ')}`, { exitCode: 2, code: 'dpgate.invalid_request' });
      }
      const validation = await validatePolicyFiles(await readPolicyDirectory(options.policyDir));
      if (!validation.ok)
        this.error(`error: ${validation.issues.map(formatIssue).join('; ')}`, {
          exitCode: 2,
          code: 'dpgate.invalid_policy',
        });
      try {
        const { policy, version } = validation.snapshot;
        // resolveJob: a job over node tables is priced as the federated job it runs as.
        const resolved = await resolveJob(policy, options.role, parsed.data, {
          plan: async (setting) => planPrivacy(setting),
        });
        this.configureOutput().writeOut?.(
          `${JSON.stringify({ cost: jobCost(resolved), communities: resolved.communities, policy_version: version })}\n`,
        );
      } catch (error) {
        if (error instanceof TrainingRefusal)
          this.error(`error: ${error.code}: ${error.message}`, { exitCode: 1, code: `dpgate.${error.code}` });
        throw error;
      }
    });
  return privacy;
}

function parseJson(command: Command, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return command.error('error: the request is not valid JSON', {
      exitCode: 2,
      code: 'dpgate.invalid_json',
    });
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface SamplingOptions {
  delta: number;
  accountant: AccountantName;
  q?: number;
  steps?: number;
  batchSize?: number;
  datasetSize?: number;
  epochs?: number;
}

function addSamplingOptions(command: Command): Command {
  return command
    .requiredOption('--delta <delta>', 'target δ in (0, 1)', parseNumber)
    .option('--q <q>', 'sampling probability in (0, 1]', parseNumber)
    .option('--steps <steps>', 'number of steps T', parseNumber)
    .option('--batch-size <size>', 'expected batch size B (with --dataset-size and --epochs)', parseNumber)
    .option('--dataset-size <size>', 'dataset size N', parseNumber)
    .option('--epochs <epochs>', 'epochs E: q = B/N, steps = ceil(E·N/B)', parseNumber)
    .addOption(
      // The default is the gateway's for training jobs, so the CLI's σ and ε match what a job is charged.
      new Option('--accountant <name>', 'accountant (default: pld, as training jobs on the gateway)')
        .choices(ACCOUNTANT_NAMES)
        .default('pld'),
    );
}

/** q and T from --q/--steps, or from --batch-size/--dataset-size/--epochs as in TF Privacy. */
function sampling(options: SamplingOptions): { q: number; steps: number } {
  const { q, steps, batchSize, datasetSize, epochs } = options;
  const direct = q !== undefined || steps !== undefined;
  const byEpochs = batchSize !== undefined || datasetSize !== undefined || epochs !== undefined;
  if (direct && byEpochs) {
    throw new AccountingInputError(
      'give either --q and --steps, or --batch-size, --dataset-size and --epochs',
    );
  }
  if (direct) {
    if (q === undefined || steps === undefined) throw new AccountingInputError('--q and --steps go together');
    return { q, steps };
  }
  if (batchSize === undefined || datasetSize === undefined || epochs === undefined) {
    throw new AccountingInputError('need --q and --steps, or --batch-size, --dataset-size and --epochs');
  }
  if (
    !(
      Number.isInteger(batchSize) &&
      Number.isInteger(datasetSize) &&
      batchSize >= 1 &&
      batchSize <= datasetSize
    )
  ) {
    throw new AccountingInputError(
      '--batch-size and --dataset-size must be integers with 1 ≤ batch size ≤ dataset size',
    );
  }
  if (!(epochs > 0)) throw new AccountingInputError(`--epochs must be > 0, got ${epochs}`);
  return { q: batchSize / datasetSize, steps: Math.ceil((epochs * datasetSize) / batchSize) };
}

function parseNumber(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new InvalidArgumentError('not a number');
  return value;
}

/**
 * Writes the result as JSON. Input errors exit with code 2; a setting the accountants cannot
 * handle (e.g. a PLD grid too large, no σ in range) exits with code 1; both print one line.
 */
function runChecked(command: Command, compute: () => object): void {
  let result: object;
  try {
    result = compute();
  } catch (error) {
    if (error instanceof AccountingInputError)
      command.error(`error: ${error.message}`, { exitCode: 2, code: error.code });
    if (error instanceof RangeError)
      command.error(`error: ${error.message}`, { exitCode: 1, code: 'dpgate.accounting' });
    throw error;
  }
  command.configureOutput().writeOut?.(`${JSON.stringify(result)}\n`);
}
