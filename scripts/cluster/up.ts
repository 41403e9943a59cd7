// npm run cluster:up [-- --fresh]
// Starts the local control plane (or reuses a healthy one) and prints the admin
// kubeconfig path on stdout. Stop it with `npm run cluster:down`.
import {
  clusterHealthy,
  ensureBaseline,
  ensurePodReaper,
  startCluster,
  withClusterLock,
} from './control-plane.ts';

const fresh = process.argv.includes('--fresh');

const state = await withClusterLock(async () => {
  const running = fresh ? undefined : await clusterHealthy();
  if (running) {
    console.error(`[cluster] reusing the running cluster at ${running.server} (pass --fresh to restart it)`);
    await ensureBaseline(running);
    await ensurePodReaper(running);
    return running;
  }
  return startCluster();
});

console.error(`[cluster] API server: ${state.server}`);
console.error(`[cluster] use it:     export KUBECONFIG=${state.kubeconfigPath}`);
console.error(`[cluster] kubectl:    ${state.binDir}/kubectl (also .cache/k8s/bin/kubectl)`);
console.error(`[cluster] logs:       ${state.dir}/logs/`);
console.log(state.kubeconfigPath);
