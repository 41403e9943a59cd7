// vitest globalSetup for the e2e suite: one control plane for the whole run.
// A cluster that was already running (npm run cluster:up) is reused and left running;
// its nodes, RuntimeClasses and CRDs are first put back to the baseline. A cluster
// started here is stopped at the end unless MODELGATE_E2E_KEEP_CLUSTER=1.
import { startCluster } from './cluster.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const cluster = await startCluster({ restoreBaseline: true });
  console.error(
    `[e2e] cluster ${cluster.startedHere ? 'started' : 'reused'}: ${cluster.server} (${cluster.kubeconfigPath})`,
  );
  return async () => {
    if (cluster.startedHere && process.env.MODELGATE_E2E_KEEP_CLUSTER !== '1') await cluster.stop();
  };
}
