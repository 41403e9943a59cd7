// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by file, and
// inclusive time for functions whose name matches a filter. Used for the profiles in docs/performance.md.
//   npx tsx bench/cpuprofile-summary.ts <file.cpuprofile> [--top 30] [--inclusive name1,name2]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const file = args[0];
if (!file) throw new Error('usage: cpuprofile-summary <file.cpuprofile> [--top N] [--inclusive a,b]');
const top = Number(args[args.indexOf('--top') + 1] || 30) || 30;
const inclusiveNames = args.includes('--inclusive')
  ? (args[args.indexOf('--inclusive') + 1] ?? '').split(',')
  : [];
const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfUs = new Map<number, number>();
prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idle = [...selfUs.entries()]
  .filter(([id]) => ['(idle)', '(program)'].includes(byId.get(id)!.callFrame.functionName))
  .reduce((a, [, t]) => a + t, 0);
const busy = total - idle;
const short = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\//, '')
    .replace(/.*\/work\/main\//, '');
const label = (n: Node) =>
  `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const agg = (key: (n: Node) => string) => {
  const m = new Map<string, number>();
  for (const [id, t] of selfUs) m.set(key(byId.get(id)!), (m.get(key(byId.get(id)!)) ?? 0) + t);
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
};
const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)} %`;
console.log(
  `total ${(total / 1000).toFixed(0)} ms, busy (not idle/program) ${(busy / 1000).toFixed(0)} ms; shares below are of busy time`,
);
console.log('\nself time by function:');
for (const [k, t] of agg(label).slice(0, top)) console.log(`${pct(t)}  ${k}`);
console.log('\nself time by file:');
for (const [k, t] of agg((n) => short(n.callFrame.url) || n.callFrame.functionName).slice(0, top))
  console.log(`${pct(t)}  ${k}`);
if (inclusiveNames.length > 0) {
  console.log('\ninclusive time (samples under a frame with this function name):');
  for (const name of inclusiveNames) {
    let t = 0;
    for (const [id, s] of selfUs) {
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur))
        if (byId.get(cur)!.callFrame.functionName === name) {
          t += s;
          break;
        }
    }
    console.log(`${pct(t)}  ${name}`);
  }
}
