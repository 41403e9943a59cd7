// npm run cluster:down [-- --dir <run dir>]
// Stops every process of the local cluster (also those of a crashed run), unmounts what its node mounted,
// removes its cgroups, restores the kubelet's sysctls, releases its namespaces and deletes the run
// directory (.cache/cluster/).
import { resolve } from 'node:path';
import { defaultClusterDir, stopCluster, withClusterLock } from './control-plane.ts';

const at = process.argv.indexOf('--dir');
const dir = at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]!) : defaultClusterDir;
await withClusterLock(() => stopCluster({ dir }), dir);
console.error(`[cluster] stopped; removed ${dir}`);
