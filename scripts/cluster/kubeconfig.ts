// A kubeconfig for one identity (client certificate) of the local cluster: the admin's, the control-plane
// components', the kubelet's and kube-proxy's.
import yaml from 'js-yaml';

export interface ClientCertificate {
  certPem: string;
  keyPem: string;
}

export function kubeconfigYaml(
  server: string,
  caPem: string,
  client: ClientCertificate,
  user: string,
): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'modelgate-local', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [
      {
        name: user,
        user: { 'client-certificate-data': b64(client.certPem), 'client-key-data': b64(client.keyPem) },
      },
    ],
    contexts: [{ name: 'modelgate-local', context: { cluster: 'modelgate-local', user } }],
    'current-context': 'modelgate-local',
    preferences: {},
  });
}
