/** Running the real `dpgate` command as a child process, as a user would. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEMO_POLICY_DIR } from './demo-policy.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Milliseconds from spawn to the first healthy /health answer. */
  readonly readyAfterMs: number;
  readonly output: () => string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Where and how to run the command. */
export interface RunOptions {
  /** The checkout to run: another worktree, to compare two versions in one run. */
  readonly root?: string;
  /** Options for `node` itself, such as `--cpu-prof` (which NODE_OPTIONS does not take). */
  readonly nodeArgs?: readonly string[];
}

export function runDpgate(
  args: string[],
  env: Record<string, string | undefined>,
  { root = ROOT, nodeArgs = [] }: RunOptions = {},
) {
  const child = spawn(process.execPath, [...nodeArgs, 'bin/dpgate.js', ...args], {
    cwd: root,
    // From the sources unless a test asks for the compiled build (DPGATE_FROM_SOURCE: '0').
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      DPGATE_FROM_SOURCE: '1',
      DPGATE_POLICY_DIR: DEMO_POLICY_DIR,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Starts `dpgate serve` on a free port and waits until /health answers 200. */
export async function startGateway(
  env: Record<string, string | undefined>,
  timeoutMs = 30_000,
  options: RunOptions = {},
): Promise<GatewayProcess> {
  const started = performance.now();
  const run = runDpgate(['serve'], { HOST: '127.0.0.1', PORT: '0', ...env }, options);
  let exitCode: number | null | undefined;
  run.exited.then((code) => {
    exitCode = code;
  });
  while (performance.now() - started < timeoutMs) {
    if (exitCode !== undefined) throw new Error(`dpgate exited with ${exitCode}:\n${run.output()}`);
    const url = run.output().match(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/)?.[1];
    if (url) {
      const healthy = await fetch(`${url}/health`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (healthy) {
        const readyAfterMs = performance.now() - started;
        return {
          child: run.child,
          url,
          readyAfterMs,
          output: run.output,
          stop: (signal = 'SIGTERM') => {
            run.child.kill(signal);
            return run.exited;
          },
        };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  run.child.kill('SIGKILL');
  throw new Error(`dpgate was not healthy within ${timeoutMs} ms:\n${run.output()}`);
}
