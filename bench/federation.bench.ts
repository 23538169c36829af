// Secure aggregation rounds in process (every message still goes through JSON, as on the wire):
// rounds per second and bytes each node sends and receives per round, for 3, 10 and 50 nodes and
// the model sizes of the DP-SGD benchmark (logistic 21, MLP 20-64-1 with 1,409 parameters, MLP
// 20-256-256-1 with 71,425 and 20-256-256-10 with 73,738, at the 48-bit modulus federated DP-SGD
// picks for the wdbc models). Usage: npm run bench -- federation [--sizes=small] [--nodes=3,10,50]
import { ModularVector } from '../src/federation/modular-vector.ts';
import { secureAggregate } from '../src/federation/secagg-gateway.ts';
import { testFederation } from '../test/federation/support.ts';

const BITS = 48;
const SMALL = [
  ['logistic', 21],
  ['mlp 20-64-1', 1409],
] as const;
const LARGE = [
  ['mlp 20-256-256-1', 71_425],
  ['mlp 20-256-256-10', 73_738],
] as const;
const SIZES = process.argv.includes('--sizes=small') ? SMALL : [...SMALL, ...LARGE];
/** Timed rounds per (nodes, parameters): fewer where one round takes seconds. */
const nodesArgument = process.argv.find((a) => a.startsWith('--nodes='));
const NODES = nodesArgument ? nodesArgument.slice(8).split(',').map(Number) : [3, 10, 50];
const roundsFor = (n: number, length: number) => {
  const base = n === 3 ? 10 : n === 10 ? 5 : 2;
  return length > 10_000 ? Math.max(1, Math.floor(base / 3)) : base;
};

console.log(`node ${process.version}; in-process transport, one thread; t = ⌊2n/3⌋ + 1, no dropouts`);
console.log(
  '| nodes | model | parameters | rounds/s | ms/round (median) | bytes sent/node/round | bytes received/node/round | masked vector bytes |',
);
console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
for (const n of NODES) {
  for (const [name, length] of SIZES) {
    const rounds = roundsFor(n, length);
    const threshold = Math.floor((2 * n) / 3) + 1;
    const input = ModularVector.fromIntegers(
      BITS,
      Array.from({ length }, (_, i) => i),
    );
    const federation = await testFederation({ n, threshold, inputs: () => input });
    const request = { nodes: federation.ids, threshold, bits: BITS, length, task: { kind: 'bench' } };
    // One thread plays all n nodes: a round of 50 takes seconds, so no per-call deadline applies.
    const options = { ...federation.options, timeoutMs: 3_600_000 };
    await secureAggregate(request, options); // warm-up
    const meter = federation.transport.meter;
    meter.sent.clear();
    meter.received.clear();
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const started = performance.now();
      await secureAggregate(request, options);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const perNode = (map: Map<string, number>) =>
      [...map.values()].reduce((a, b) => a + b, 0) / federation.ids.length / rounds;
    console.log(
      `| ${n} | ${name} | ${length} | ${(1000 / median).toFixed(2)} | ${median.toFixed(0)} | ${Math.round(perNode(meter.sent)).toLocaleString('en-US')} | ${Math.round(perNode(meter.received)).toLocaleString('en-US')} | ${(length * Math.ceil(BITS / 8)).toLocaleString('en-US')} |`,
    );
  }
}
