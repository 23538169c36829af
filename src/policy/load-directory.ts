/** Reading a policy directory from disk: every `*.yaml` / `*.yml` file, in name order. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PolicyFile } from './policy-files.ts';

export async function readPolicyDirectory(directory: string): Promise<PolicyFile[]> {
  const names = (await readdir(directory)).filter((name) => /\.ya?ml$/.test(name)).sort();
  return Promise.all(
    names.map(async (name) => ({ name, text: await readFile(join(directory, name), 'utf8') })),
  );
}
