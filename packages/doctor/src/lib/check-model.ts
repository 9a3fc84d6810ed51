import type { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { S3Client } from "@aws-sdk/client-s3";
import type { STSClient } from "@aws-sdk/client-sts";
import type { HttpsAnswer, HttpsGetOptions } from "@irsa-anywhere/discovery";
import type { ProviderLookup, RoleArn, ServiceAccountRef } from "@irsa-anywhere/iam";
import type { PublicSigningKey } from "@irsa-anywhere/keys";
import type { CheckCode, CheckId } from "../check.js";
import type { ClusterFacts } from "../checks/cluster-api.js";
import type { DiscoveryDocument } from "../checks/documents.js";
import type { PublishedKeys } from "../checks/jwks.js";
import type { ServiceAccountFacts } from "../checks/service-account.js";
import type { SigningKey } from "../signing-key.js";
import { couldNotRun, notChecked, type Outcome, skip } from "./outcome.js";

/**
 * @internal
 * Everything a check may need: given by the user (the keys, a cluster connection, the service
 * account), read once for several checks (the cluster's answers, IAM's provider), or learned by
 * an earlier check (the discovery document, the JWKS, the service account's annotations).
 */
export interface Facts {
  /** The issuer as IAM names its provider (`host/path`): the issuer URL is one STS accepts. */
  hostPath: string;
  /** The cluster's public keys (`--cluster`, `--key`). */
  keys: readonly PublicSigningKey[];
  /** AWS checks are on. */
  aws: true;
  /** What the API server answered (a kubeconfig was given). */
  cluster: ClusterFacts;
  /** The service account given (`--service-account`). */
  serviceAccount: ServiceAccountRef;
  /** The private signing key of a smoke test the user asked for (`--smoke-test`). */
  smokeTest: SigningKey;
  /** What IAM holds for the issuer, as read. */
  providerLookup: ProviderLookup;
  /** The IAM OIDC provider, found. */
  provider: Extract<ProviderLookup, { kind: "found" }>;
  /** IAM was not found to lack the provider (it exists, or could not be read). */
  providerNotMissing: true;
  /** The discovery document, answered with a 200. */
  discovery: HttpsAnswer;
  /** The discovery document, parsed, with an https `jwks_uri`. */
  discoveryDocument: DiscoveryDocument;
  /** The JWKS, answered with a 200. */
  jwksAnswer: HttpsAnswer;
  /** The published keys STS could verify a token with. */
  jwks: PublishedKeys;
  /** What the service account in the cluster says. */
  annotations: ServiceAccountFacts;
  /** The role the service account is annotated with. */
  annotatedRole: RoleArn;
  /** The role to check: given (`--role-arn`), else the annotated one. */
  role: RoleArn;
  /** The audience the tokens carry. */
  audience: string;
  /** The role's trust policy does not refuse the service account's tokens. */
  trust: true;
  /** A token minted as kube-apiserver would, that verifies as STS verifies it. Never printed. */
  smokeToken: { token: string; redact: (text: string) => string };
}

/** @internal */
export type Fact = keyof Facts;

/**
 * @internal
 * Why a fact is missing: one line for the skip it causes, and its code. `couldNotRead` marks a
 * fact the user asked for that could not be had: what needs it could not be checked, which is
 * not a skip.
 */
export interface Missing {
  reason: string;
  /** A `SKIP_*` code, or `COULD_NOT_CHECK_*` with `couldNotRead`. */
  code: CheckCode;
  couldNotRead?: { fix: string };
}

/** @internal What every check and fact may reach besides the facts it declares. */
export interface Environment {
  issuer: string;
  now: Date;
  /** The user's expected role, if given (the service account check compares its annotation). */
  expectedRoleArn: string | undefined;
  fetchOptions: HttpsGetOptions;
  iam: () => Promise<IAMClient>;
  sts: () => Promise<STSClient>;
  /** Made on first use: only a CloudFront issuer needs it. */
  cloudFront: () => Promise<CloudFrontClient>;
  /** An S3 client for the bucket's region (a CloudFront origin), made on first use. */
  s3: (region: string) => Promise<S3Client>;
  /** A check's outcome, once it is known (for a fact that quotes it). */
  outcomeOf: (id: CheckId) => Promise<Outcome>;
}

type Have<Needs extends readonly Fact[], Uses extends readonly Fact[]> = Pick<Facts, Needs[number]> &
  Partial<Pick<Facts, Uses[number]>>;

/** @internal What a check or fact learned: facts for later checks, and why others are missing. */
export interface Learned {
  facts?: Partial<Facts>;
  /** Why a fact this node provides is missing, when its declared reason does not say it best. */
  missing?: Partial<Record<Fact, Missing>>;
}

/**
 * @internal
 * What a declaration depends on: the facts it `needs` (in the order their absence is reported;
 * the first missing one stops it), and those it `uses` when they are there.
 */
interface Dependencies<Needs extends readonly Fact[], Uses extends readonly Fact[]> {
  needs: Needs;
  uses?: Uses;
}

/**
 * @internal
 * One check: its id (which gives its title and its place in the output), the facts it `needs`
 * (in the order their absence is reported; the first missing one skips the check), the facts
 * it `uses` when they are there, the facts it `provides` to later checks with why each is
 * missing when it does not learn it, and `run`, called only with every need at hand.
 */
export interface CheckDeclaration<
  Needs extends readonly Fact[] = readonly Fact[],
  Uses extends readonly Fact[] = readonly Fact[],
> extends Dependencies<Needs, Uses> {
  id: CheckId;
  provides?: Partial<Record<Fact, Missing>>;
  /** A check whose point is information only: a need that could not be read makes it a warning. */
  informational?: boolean;
  run: (have: Have<Needs, Uses>, env: Environment) => Promise<Outcome & Learned> | (Outcome & Learned);
}

/**
 * @internal
 * One fact that no check learns: given in the options, or read for several checks at once.
 * `produce` returns the fact, or why it is missing.
 */
export interface FactDeclaration<
  Needs extends readonly Fact[] = readonly Fact[],
  Uses extends readonly Fact[] = readonly Fact[],
> extends Dependencies<Needs, Uses> {
  fact: Fact;
  produce: (have: Have<Needs, Uses>, env: Environment) => Promise<unknown | Missing> | unknown | Missing;
}

/** @internal Declares a check, typing `run`'s facts from `needs` and `uses`. */
export const defineCheck = <const Needs extends readonly Fact[], const Uses extends readonly Fact[] = []>(
  declaration: CheckDeclaration<Needs, Uses>,
): CheckDeclaration => declaration as unknown as CheckDeclaration;

/** @internal Declares a fact, typing `produce`'s facts from `needs` and `uses`. */
export const defineFact = <const Needs extends readonly Fact[], const Uses extends readonly Fact[] = []>(
  declaration: FactDeclaration<Needs, Uses>,
): FactDeclaration => declaration as unknown as FactDeclaration;

/** @internal A fact that is missing, for `produce`. */
export const missing = (
  reason: string,
  code: CheckCode,
  couldNotRead?: { fix: string },
): Missing & { missing: true } => ({
  missing: true,
  reason,
  code,
  ...(couldNotRead ? { couldNotRead } : {}),
});

const isMissing = (value: unknown): value is Missing =>
  typeof value === "object" && value !== null && (value as { missing?: unknown }).missing === true;

type Known = { value: unknown } | { missing: Missing };

/**
 * @internal
 * Every fact a declaration names comes from exactly one check or fact declaration, and no
 * declaration needs itself through others; throws otherwise. Returns the nodes in an order
 * that runs each after what it needs.
 */
export function dependencyOrder(
  checks: readonly CheckDeclaration[],
  facts: readonly FactDeclaration[],
): string[] {
  const producer = new Map<Fact, string>();
  const edges = new Map<string, Fact[]>();
  for (const check of checks) {
    for (const fact of Object.keys(check.provides ?? {}) as Fact[]) {
      if (producer.has(fact)) throw new Error(`${fact} is provided twice`);
      producer.set(fact, check.id);
    }
    edges.set(check.id, [...check.needs, ...(check.uses ?? [])]);
  }
  for (const fact of facts) {
    if (producer.has(fact.fact)) throw new Error(`${fact.fact} is provided twice`);
    producer.set(fact.fact, `fact:${fact.fact}`);
    edges.set(`fact:${fact.fact}`, [...fact.needs, ...(fact.uses ?? [])]);
  }
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (node: string, path: string[]) => {
    if (state.get(node) === "done") return;
    if (state.get(node) === "visiting") throw new Error(`a cycle: ${[...path, node].join(" -> ")}`);
    state.set(node, "visiting");
    for (const fact of edges.get(node) ?? []) {
      const from = producer.get(fact);
      if (!from) throw new Error(`nothing provides ${fact}, which ${node} needs`);
      visit(from, [...path, node]);
    }
    state.set(node, "done");
    order.push(node);
  };
  for (const node of edges.keys()) visit(node, []);
  return order;
}

/**
 * @internal
 * Runs the declarations in dependency order, each as soon as what it needs is known (so that
 * independent reads overlap), and returns every check's outcome. A check whose need is missing
 * is skipped with that need's reason and code, and the facts it would have provided go missing
 * for the same reason, so a broken link skips everything downstream of it and says why.
 */
export async function runDeclarations(
  checks: readonly CheckDeclaration[],
  facts: readonly FactDeclaration[],
  env: Omit<Environment, "outcomeOf">,
): Promise<Map<CheckId, Outcome>> {
  dependencyOrder(checks, facts);
  const known = new Map<Fact, Promise<Known>>();
  const outcomes = new Map<CheckId, Promise<Outcome>>();
  const settle = new Map<Fact, (known: Known) => void>();
  const factOf = (fact: Fact): Promise<Known> => {
    let promise = known.get(fact);
    if (!promise) {
      promise = new Promise<Known>((resolve) => settle.set(fact, resolve));
      known.set(fact, promise);
    }
    return promise;
  };
  const environment: Environment = {
    ...env,
    outcomeOf: (id) => outcomes.get(id) ?? Promise.reject(new Error(`no check ${id}`)),
  };
  const gather = async (
    needs: readonly Fact[],
    uses: readonly Fact[],
  ): Promise<{ have: Record<string, unknown> } | { missing: Missing }> => {
    const have: Record<string, unknown> = {};
    // The first missing need, in the declared order, is the one reported.
    for (const need of needs) {
      const got = await factOf(need);
      if ("missing" in got) return { missing: got.missing };
      have[need] = got.value;
    }
    for (const use of uses) {
      const got = await factOf(use);
      if ("value" in got) have[use] = got.value;
    }
    return { have };
  };
  // Every fact is settled exactly once, by the one declaration that provides it.
  const learn = (fact: Fact, value: Known) => {
    const resolve = settle.get(fact);
    if (resolve) resolve(value);
    else known.set(fact, Promise.resolve(value));
  };

  for (const check of checks) {
    outcomes.set(
      check.id,
      (async (): Promise<Outcome> => {
        const provided = Object.entries(check.provides ?? {}) as Array<[Fact, Missing]>;
        const gathered = await gather(check.needs, check.uses ?? []);
        if ("missing" in gathered) {
          for (const [fact] of provided) learn(fact, { missing: gathered.missing });
          return skippedFor(gathered.missing, check.informational === true);
        }
        // A check that throws makes diagnose() throw (what needs its facts is left waiting).
        const result = await check.run(gathered.have as never, environment);
        const { facts: learned, missing: why, ...outcome } = result;
        for (const [fact, declared] of provided) {
          const value = learned?.[fact];
          learn(fact, value === undefined ? { missing: why?.[fact] ?? declared } : { value });
        }
        return outcome;
      })(),
    );
  }
  // A fact that cannot be read for a reason no check foresaw (a client that cannot be made) is an
  // error of diagnose(), as a check that throws is: what needs it is left waiting.
  const produced = facts.map(async (declaration) => {
    const gathered = await gather(declaration.needs, declaration.uses ?? []);
    if ("missing" in gathered) return learn(declaration.fact, gathered);
    const value = await declaration.produce(gathered.have as never, environment);
    learn(declaration.fact, isMissing(value) ? { missing: value } : { value });
  });
  const [entries] = await Promise.all([
    Promise.all(
      checks.map(async (check) => [check.id, await (outcomes.get(check.id) as Promise<Outcome>)] as const),
    ),
    ...produced,
  ]);
  return new Map(entries);
}

function skippedFor(need: Missing, informational: boolean): Outcome {
  if (!need.couldNotRead) return skip(need.reason, need.code);
  return informational
    ? notChecked(
        need.code.replace(/^COULD_NOT_CHECK_/, "NOT_CHECKED_") as CheckCode,
        need.reason,
        need.couldNotRead.fix,
      )
    : couldNotRun(need.code, need.reason, need.couldNotRead.fix);
}
