#!/usr/bin/env node
// The `dpgate` command. It runs the compiled build in dist/ (`npm run build`). From a source checkout
// without a build, or with DPGATE_FROM_SOURCE=1 (the tests set it so they never run a stale build),
// it runs the TypeScript sources through tsx instead.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli.js', import.meta.url);
if (process.env.DPGATE_FROM_SOURCE !== '1' && existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
