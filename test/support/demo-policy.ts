/**
 * The demo policy as the tests know it: a fixture copy in `test/fixtures/policies/`, so a council's
 * edit to the live `policies/` never changes what the suite checks.
 */
import { fileURLToPath } from 'node:url';
import { readPolicyDirectory } from '../../src/policy/load-directory.ts';
import type { PolicyFile } from '../../src/policy/policy-files.ts';
import { validatePolicyFiles } from '../../src/policy/validate.ts';

export const DEMO_POLICY_DIR = fileURLToPath(new URL('../fixtures/policies', import.meta.url));

export function demoPolicyFiles(): Promise<PolicyFile[]> {
  return readPolicyDirectory(DEMO_POLICY_DIR);
}

export async function demoPolicySnapshot() {
  const validation = await validatePolicyFiles(await demoPolicyFiles());
  if (!validation.ok) throw new Error('the demo policy should be valid');
  return validation.snapshot;
}

/** The demo files with one file's text edited; fails loudly if the edit did not apply. */
export function editFile(
  files: readonly PolicyFile[],
  name: string,
  edit: (text: string) => string,
): PolicyFile[] {
  return files.map((file) => {
    if (file.name !== name) return file;
    const text = edit(file.text);
    if (text === file.text) throw new Error(`edit of ${name} changed nothing`);
    return { name, text };
  });
}
