// npm run cluster:down
// Stops every process of the local control plane (also those of a crashed run)
// and removes .cache/cluster/.
import { defaultClusterDir, stopCluster, withClusterLock } from './control-plane.ts';

await withClusterLock(() => stopCluster());
console.error(`[cluster] stopped; removed ${defaultClusterDir}`);
