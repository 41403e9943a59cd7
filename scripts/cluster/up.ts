// npm run cluster:up [-- --fresh]
// Starts the local cluster (or reuses a healthy one) inside its network namespace (package.json runs this
// through netns-run.ts) and prints the admin kubeconfig path on stdout. Stop it with `npm run cluster:down`.
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

console.error(`[cluster] API server: ${state.server} (inside the cluster's own network namespace)`);
console.error(`[cluster] use it:     npm run cluster:exec -- kubectl get nodes   (sets KUBECONFIG and PATH)`);
console.error(`[cluster] shell:      npm run cluster:exec -- bash`);
console.error(
  `[cluster] registry:   http://${state.node?.registry ?? '?'} (plain HTTP, from inside the namespace)`,
);
console.error(`[cluster] logs:       ${state.dir}/logs/`);
console.log(state.kubeconfigPath);
