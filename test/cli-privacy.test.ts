import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { privacyCommand } from '../src/cli/privacy.ts';
import { TrainingRequestSchema } from '../src/jobs/training-request.ts';

/** What a training job on the gateway uses when the request names no accountant. */
const TRAINING_DEFAULT_ACCOUNTANT = TrainingRequestSchema.shape.accountant.parse(undefined);

/** Runs `dpgate privacy …` in-process, collecting output and the exit code commander would use. */
async function run(...args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  const privacy = privacyCommand();
  for (const command of [privacy, ...privacy.commands] as Command[]) {
    command
      .exitOverride()
      .configureOutput({ writeOut: (text) => (out += text), writeErr: (text) => (err += text) });
  }
  try {
    await privacy.parseAsync(args, { from: 'user' });
    return { out, err, exitCode: 0 };
  } catch (error) {
    return { out, err, exitCode: (error as { exitCode: number }).exitCode };
  }
}

describe('dpgate privacy', () => {
  it('epsilon by RDP for the Abadi et al. 2016 setting (ε ≈ 1.036, see test/dp/accounting-rdp.test.ts)', async () => {
    const { out, exitCode } = await run(
      'epsilon',
      '--q',
      '0.01',
      '--sigma',
      '4',
      '--steps',
      '10000',
      '--delta',
      '1e-5',
      '--accountant',
      'rdp',
    );
    expect(exitCode).toBe(0);
    const result = JSON.parse(out);
    expect(result).toMatchObject({ accountant: 'rdp', q: 0.01, sigma: 4, steps: 10_000, delta: 1e-5 });
    expect(result.epsilon).toBeCloseTo(1.036, 2);
  });

  it('epsilon by PLD from batch size, dataset size and epochs (TF Privacy MNIST: ε ≈ 2.38)', async () => {
    const { out } = await run(
      'epsilon',
      '--batch-size',
      '256',
      '--dataset-size',
      '60000',
      '--epochs',
      '60',
      '--sigma',
      '1.1',
      '--delta',
      '1e-5',
      '--accountant',
      'pld',
    );
    const result = JSON.parse(out);
    expect(result).toMatchObject({ accountant: 'pld', steps: 14_063, q: 256 / 60_000 });
    expect(Math.abs(result.epsilon - 2.38) / 2.38).toBeLessThan(0.01);
  });

  it('sigma for a target ε', async () => {
    const { out } = await run(
      'sigma',
      '--epsilon',
      '1',
      '--delta',
      '1e-5',
      '--q',
      '0.01',
      '--steps',
      '10000',
      '--accountant',
      'rdp',
    );
    const result = JSON.parse(out);
    expect(result.sigma).toBeGreaterThan(4);
    expect(result.sigma).toBeLessThan(4.3);
    expect(result.epsilon).toBeLessThanOrEqual(1);
  });

  it('defaults to the accountant the gateway uses for training jobs', async () => {
    const { out } = await run('sigma', '--epsilon', '1', '--delta', '1e-5', '--q', '0.01', '--steps', '1000');
    expect(JSON.parse(out).accountant).toBe(TRAINING_DEFAULT_ACCOUNTANT);
  });

  it.each([
    [['epsilon', '--q', '1.5', '--sigma', '1', '--steps', '10', '--delta', '1e-5'], /q must be in \(0, 1\]/],
    [['epsilon', '--q', '0.1', '--sigma', '0', '--steps', '10', '--delta', '1e-5'], /sigma must be > 0/],
    [
      ['epsilon', '--q', '0.1', '--sigma', '1', '--steps', '2.5', '--delta', '1e-5'],
      /steps must be a positive integer/,
    ],
    [['epsilon', '--q', '0.1', '--sigma', '1', '--steps', '10', '--delta', '1'], /delta must be in \(0, 1\)/],
    [['epsilon', '--q', '0.1', '--sigma', '1', '--delta', '1e-5'], /--q and --steps go together/],
    [
      ['epsilon', '--q', '0.1', '--steps', '5', '--epochs', '2', '--sigma', '1', '--delta', '1e-5'],
      /either --q and --steps/,
    ],
    [['epsilon', '--q', 'x', '--sigma', '1', '--steps', '10', '--delta', '1e-5'], /not a number/],
    [
      [
        'epsilon',
        '--q',
        '0.1',
        '--sigma',
        '1',
        '--steps',
        '10',
        '--delta',
        '1e-5',
        '--accountant',
        'moments',
      ],
      /rdp, pld/,
    ],
    [['sigma', '--delta', '1e-5', '--q', '0.1', '--steps', '10'], /--epsilon/],
  ])('rejects %j with a clear message and a non-zero exit', async (args, message) => {
    const { out, err, exitCode } = await run(...args);
    expect(exitCode).not.toBe(0);
    expect(out).toBe('');
    expect(err).toMatch(message);
  });
});
