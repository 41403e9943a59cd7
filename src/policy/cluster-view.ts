// The slice of cluster state a decision may read: Namespaces (labels), RuntimeClasses (handler and
// scheduling), ConfigMaps holding signature bundles, and Secrets holding public keys. Webhook and
// controller fill it from informers; `modelgate check` from a YAML file. Reads are in-memory only.
import { BUNDLE_CONFIGMAP_LABEL } from '../api/types.ts';
import { isObj, strMap } from '../json/shape.ts';
import {
  EVIDENCE_KEY,
  EVIDENCE_LABEL,
  EvidenceFormatError,
  evidenceObjectName,
  parseEvidence,
  type OciEvidenceRecord,
} from '../oci/evidence.ts';

export interface RuntimeClassInfo {
  name: string;
  handler: string;
  nodeSelector: Record<string, string>;
}

export interface ClusterView {
  /** Includes kubernetes.io/metadata.name. Callers must not modify the object. */
  namespaceLabels(name: string): Readonly<Record<string, string>> | undefined;
  runtimeClass(name: string): RuntimeClassInfo | undefined;
  configMapData(namespace: string, name: string): Record<string, string> | undefined;
  secretData(namespace: string, name: string): Record<string, string> | undefined;
  /** What the controller recorded about an OCI manifest digest (issue 17); undefined when nothing yet. */
  ociEvidence?(digest: string): OciEvidenceRecord | undefined;
  /**
   * Whether a controller resolves missing records for this view (a missing one then means "not looked up
   * yet", worth waiting for), rather than records given once (a file) or none at all.
   */
  ociEvidenceEnabled?(): boolean;
}

export interface MemoryClusterViewOptions {
  /**
   * modelgate's own namespace: OCI evidence records are read from ConfigMaps there only (a record
   * anywhere else could be written by a tenant). Without it, no record is read.
   */
  evidenceNamespace?: string;
  /** A controller writes records there on request (the webhook's informers; not `check` or a file). */
  evidenceResolved?: boolean;
}

/** A mutable in-memory ClusterView: `upsert`/`remove` objects as they arrive (informer events or a file). */
export class MemoryClusterView implements ClusterView {
  private readonly namespaces = new Map<string, Readonly<Record<string, string>>>();
  private readonly runtimeClasses = new Map<string, RuntimeClassInfo>();
  private readonly configMaps = new Map<string, Record<string, string>>();
  private readonly secrets = new Map<string, Record<string, string>>();
  private readonly evidence = new Map<string, OciEvidenceRecord>();

  constructor(private readonly options: MemoryClusterViewOptions = {}) {}

  /** Returns false for kinds the view does not keep. */
  upsert(obj: unknown): boolean {
    if (!isObj(obj) || !isObj(obj.metadata) || typeof obj.metadata.name !== 'string') return false;
    const name = obj.metadata.name;
    const ns = typeof obj.metadata.namespace === 'string' ? obj.metadata.namespace : 'default';
    switch (obj.kind) {
      case 'Namespace':
        // Merged and frozen once here, not on every namespaceLabels() call (once per admission request):
        // callers get the same object until the namespace changes, so they can memoise on its identity.
        this.namespaces.set(
          name,
          Object.freeze({ ...strMap(obj.metadata.labels), 'kubernetes.io/metadata.name': name }),
        );
        return true;
      case 'RuntimeClass': {
        const scheduling = isObj(obj.scheduling) ? obj.scheduling : {};
        this.runtimeClasses.set(name, {
          name,
          handler: typeof obj.handler === 'string' ? obj.handler : '',
          nodeSelector: strMap(scheduling.nodeSelector),
        });
        return true;
      }
      case 'ConfigMap': {
        if (strMap(obj.metadata.labels)[EVIDENCE_LABEL] === 'true')
          return this.upsertEvidence(ns, name, obj.data);
        // Only ConfigMaps labelled modelgate.io/bundle=true are kept (signature bundles, trusted roots):
        // the webhook's informer watches only those, and offline checks must see the same world.
        if (strMap(obj.metadata.labels)[BUNDLE_CONFIGMAP_LABEL] !== 'true') return false;
        const data = strMap(obj.data);
        for (const [k, v] of Object.entries(strMap(obj.binaryData)))
          data[k] = Buffer.from(v, 'base64').toString('utf8');
        this.configMaps.set(`${ns}/${name}`, data);
        return true;
      }
      case 'Secret': {
        const data: Record<string, string> = {};
        for (const [k, v] of Object.entries(strMap(obj.data)))
          data[k] = Buffer.from(v, 'base64').toString('utf8');
        Object.assign(data, strMap(obj.stringData));
        this.secrets.set(`${ns}/${name}`, data);
        return true;
      }
      default:
        return false;
    }
  }

  remove(kind: string, namespace: string | undefined, name: string): void {
    const key = `${namespace ?? 'default'}/${name}`;
    if (kind === 'Namespace') this.namespaces.delete(name);
    else if (kind === 'RuntimeClass') this.runtimeClasses.delete(name);
    else if (kind === 'ConfigMap') {
      this.configMaps.delete(key);
      if (namespace === this.options.evidenceNamespace && name.startsWith('modelgate-oci-'))
        this.evidence.delete(`sha256:${name.slice('modelgate-oci-'.length)}`);
    } else if (kind === 'Secret') this.secrets.delete(key);
  }

  /** The namespace's labels plus kubernetes.io/metadata.name; a frozen object, the same until the namespace changes. */
  namespaceLabels(name: string): Readonly<Record<string, string>> | undefined {
    return this.namespaces.get(name);
  }
  runtimeClass(name: string) {
    return this.runtimeClasses.get(name);
  }
  configMapData(namespace: string, name: string) {
    return this.configMaps.get(`${namespace}/${name}`);
  }
  secretData(namespace: string, name: string) {
    return this.secrets.get(`${namespace}/${name}`);
  }
  ociEvidence(digest: string): OciEvidenceRecord | undefined {
    return this.evidence.get(digest);
  }
  ociEvidenceEnabled(): boolean {
    return this.options.evidenceNamespace !== undefined && this.options.evidenceResolved === true;
  }

  /** A record counts only in modelgate's namespace, under the name of the digest it is about. */
  private upsertEvidence(namespace: string, name: string, data: unknown): boolean {
    if (namespace !== this.options.evidenceNamespace) return false;
    const text = strMap(data)[EVIDENCE_KEY];
    let record: OciEvidenceRecord | undefined;
    try {
      record = text === undefined ? undefined : parseEvidence(text);
    } catch (err) {
      if (!(err instanceof EvidenceFormatError)) throw err;
    }
    if (!record || evidenceObjectName(record.digest) !== name) {
      // Unreadable, or named for another digest: whatever this name held before is gone too.
      if (name.startsWith('modelgate-oci-'))
        this.evidence.delete(`sha256:${name.slice('modelgate-oci-'.length)}`);
      return true;
    }
    this.evidence.set(record.digest, record);
    return true;
  }
}
