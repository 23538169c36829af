/**
 * The privacy auditor's long mode: each mechanism of test/audit on 10^6 draws per side (or
 * `--samples N`), printed as the table in docs/benchmarks.md. Run: `npm run audit:long`.
 */

import { cryptoRandom } from '../src/dp/random.ts';
import { audit } from '../test/audit/auditor.ts';
import { halfNoiseTarget, SOUND_TARGETS } from '../test/audit/mechanisms.ts';

const flag = process.argv.indexOf('--samples');
const samples = flag > 0 ? Number(process.argv[flag + 1]) : 1_000_000;
console.log(`| mechanism | claimed ε | δ | empirical ε (99.9% lower bound) | draws per side | seconds |`);
console.log('|---|---|---|---|---|---|');
for (const make of [...SOUND_TARGETS, halfNoiseTarget]) {
  const target = make();
  const started = performance.now();
  const result = audit(target, samples, cryptoRandom);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const lower = Number.isFinite(result.epsilonLower) ? result.epsilonLower.toFixed(3) : '—';
  const verdict = result.epsilonLower > result.claimedEpsilon ? ' **violation**' : '';
  console.log(
    `| ${target.name} | ${target.epsilon.toFixed(3)} | ${target.delta.toExponential(2)} | ${lower}${verdict} | ${samples} | ${seconds} |`,
  );
}
