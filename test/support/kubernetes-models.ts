// Validation of Kubernetes objects against the API schemas, with kubernetes-models' classes, so
// that a test cannot hand the code under test an object kube-apiserver would never serve.
import { createRequire } from "node:module";

interface ModelClass {
  new (data: object): { validate(): void; toJSON(): object };
}

// The CommonJS build, loaded on demand and synchronously: the fake API server validates inside
// `objects.set`, and the class depends on the object's apiVersion and kind.
const require = createRequire(import.meta.url);

/** The kubernetes-models class of `kind` in `apiVersion` (core kinds under `v1`). */
export function kubernetesModel(apiVersion: string, kind: string): ModelClass {
  if (!/^[a-z0-9.-]+(\/[a-z0-9]+)?$/.test(apiVersion) || !/^[A-Za-z]+$/.test(kind)) {
    throw new Error(`not a Kubernetes apiVersion and kind: ${apiVersion} ${kind}`);
  }
  let module: Record<string, ModelClass | undefined>;
  try {
    module = require(`kubernetes-models/${apiVersion}/${kind}`);
  } catch {
    throw new Error(`kubernetes-models has no ${kind} in ${apiVersion}`);
  }
  const model = module[kind];
  if (model === undefined) throw new Error(`kubernetes-models has no ${kind} in ${apiVersion}`);
  return model;
}

/**
 * Throws, naming every schema violation, unless `object` is a valid `kind` of `apiVersion`.
 *
 * @example
 * validateKubernetesObject({ apiVersion: "v1", kind: "Secret", metadata: { name: "prod-sa" } });
 */
export function validateKubernetesObject(object: { apiVersion: string; kind: string }): void {
  const Model = kubernetesModel(object.apiVersion, object.kind);
  try {
    new Model(object).validate();
  } catch (error) {
    throw new Error(`invalid ${object.kind}: ${(error as Error).message}`);
  }
}
