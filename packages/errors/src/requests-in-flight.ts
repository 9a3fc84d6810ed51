/** A network request that is waiting for its answer. */
export interface RequestInFlight {
  /** Who is asked: `S3`, `IAM`, `STS`, `the Kubernetes API`. */
  service: string;
  /** e.g. `https://s3.us-west-2.amazonaws.com` or `https://10.0.0.1:6443`. */
  endpoint: string;
  /** What was asked, e.g. `PutObject` or `get secret eksa-system/prod-sa`. */
  operation: string;
}

const inFlight = new Set<RequestInFlight>();

/**
 * The requests of this project's packages (AWS, Kubernetes) waiting for an answer now, oldest
 * first: what a caller's overall deadline names when it passes.
 *
 * @example
 * setTimeout(() => console.error(requestsInFlight()[0]), 60_000).unref();
 */
export function requestsInFlight(): RequestInFlight[] {
  return [...inFlight];
}

/** @internal Counts `request` in {@link requestsInFlight} until it settles. */
export async function trackRequest<T>(request: RequestInFlight, answer: Promise<T>): Promise<T> {
  inFlight.add(request);
  try {
    return await answer;
  } finally {
    inFlight.delete(request);
  }
}
