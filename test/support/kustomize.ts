// Renders the kustomize examples with `kubectl kustomize` (client side only: no cluster), as
// `kubectl apply -k` would before sending them.
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);

/** A rendered Kubernetes object, as far as the tests look into it. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/**
 * Every object `kubectl kustomize dir` renders, in its order.
 *
 * @example
 * const objects = await kustomize("examples/cronjob/overlays/example-cluster");
 */
export async function kustomize(dir: string): Promise<RenderedObject[]> {
  const { stdout } = await run("kubectl", ["kustomize", dir], {
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") {
      throw new Error(
        "kubectl is not on PATH: the examples' tests render them with kubectl kustomize (no cluster)",
      );
    }
    throw error;
  });
  return parseAllDocuments(stdout)
    .map((document) => document.toJS() as RenderedObject | null)
    .filter((object): object is RenderedObject => object !== null);
}

/**
 * The overlays of a kustomize example: each folder under `example/overlays`, one per cluster.
 *
 * @example
 * for (const overlay of overlaysOf("examples/serve")) console.log(overlay);
 */
export function overlaysOf(example: string): string[] {
  return readdirSync(join(example, "overlays"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(example, "overlays", entry.name));
}
