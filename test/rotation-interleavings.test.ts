// Concurrent publish and rotate phases, driven one store access at a time through seeded random
// schedules, against a directory and against S3 (moto, through pausing proxies). After every
// access the stored documents must satisfy what a rotation relies on; see `checkInvariants`.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { openIdConfiguration, serializeOpenIdConfiguration } from "@irsa-anywhere/discovery";
import { type PublicJwk, type PublicSigningKey, publicKeysFromPem, serializeJwks } from "@irsa-anywhere/keys";
import {
  confirmRotation,
  DEFAULT_RETAIN_MS,
  directoryTarget,
  type PublishOptions,
  prepareRotation,
  pruneRotation,
  publish,
  withdrawRotation,
} from "@irsa-anywhere/publisher";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunOutcome, Scheduler, scheduledTarget, seededRandom } from "./support/interleavings.js";
import { generateTestKey, pem } from "./support/keys.js";
import { type MotoServer, s3TestClientConfig, startMoto } from "./support/moto.js";
import { type RecordingProxy, startRecordingProxy } from "./support/recording-proxy.js";

const HOUR = 3_600_000;
const issuer = "https://oidc.example.com/prod";
const t0 = new Date("2026-11-23T00:00:00Z");

const pair = () => generateTestKey({ type: "ec", curve: "P-256" });
const [R, A, B, C, D] = [pair(), pair(), pair(), pair(), pair()];
type Pair = typeof A;
const signing = (p: Pair) => publicKeysFromPem(pem(p.privateKey, "pkcs8"), "tls.key");
const verifying = (p: Pair) => publicKeysFromPem(pem(p.publicKey, "spki"), "tls.crt");
const kid = (p: Pair) => verifying(p)[0]?.kid as string;

/** Where the runs publish: `options(run)` for run `run` (held by the scheduler), `direct` for the setup. */
interface Where {
  options(run: number): PublishOptions;
  direct: PublishOptions;
  /** The stored documents, read past the scheduler. */
  view(): Promise<Stored>;
}

interface Stored {
  keys: string | undefined;
  discovery: string | undefined;
  state: string | undefined;
}

interface Run {
  start(where: Partial<PublishOptions>): Promise<unknown>;
  /** Kids that must stay published once this run has succeeded. */
  publishes: Pair[];
}

interface Scenario {
  name: string;
  /** The clock of the concurrent runs. */
  at: Date;
  setup(where: PublishOptions): Promise<void>;
  runs: Run[];
  /** The key the cluster signs with during the runs. */
  signs: Pair;
  final(outcomes: RunOutcome[], state: StateView): void;
}

interface StateView {
  published: string[];
  keys: Record<string, { retiredAt?: string; pending?: boolean }>;
  rotation?: { to: string[]; confirmedAt?: string };
}

const asPublish =
  (cluster: PublicSigningKey[]): Run["start"] =>
  (where) =>
    publish({ ...where, keys: cluster } as PublishOptions);

/** Before the runs: R published and retired, A signing; with `prepared`, B published ahead. */
async function baseSetup(where: PublishOptions, prepared: boolean) {
  await publish({ ...where, keys: signing(R), now: () => t0 });
  await publish({ ...where, keys: signing(A), now: () => new Date(t0.getTime() + HOUR) });
  if (prepared) {
    await prepareRotation({
      ...where,
      keys: signing(A),
      nextKeys: verifying(B),
      now: () => new Date(t0.getTime() + HOUR),
    });
  }
}

const rotationRefusal = (outcome: RunOutcome | undefined, open: Pair) => {
  expect(outcome?.ok).toBe(false);
  expect(outcome?.error).toMatchObject({
    code: "ERR_ROTATION_PRECONDITION",
    message: expect.stringContaining(`rotation to ${kid(open)} is already prepared`),
  });
};

const scenarios: Scenario[] = [
  {
    name: "publish ∥ prepare",
    at: new Date(t0.getTime() + 2 * HOUR),
    setup: (where) => baseSetup(where, false),
    runs: [
      { start: asPublish(signing(A)), publishes: [A] },
      {
        start: (where) => prepareRotation({ ...where, keys: signing(A), nextKeys: verifying(B) } as never),
        publishes: [A, B],
      },
    ],
    signs: A,
    final(outcomes, state) {
      expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
      expect(state.rotation?.to).toEqual([kid(B)]);
    },
  },
  {
    name: "prepare ∥ prepare",
    at: new Date(t0.getTime() + 2 * HOUR),
    setup: (where) => baseSetup(where, false),
    runs: [B, C].map((next) => ({
      start: (where) => prepareRotation({ ...where, keys: signing(A), nextKeys: verifying(next) } as never),
      publishes: [A, next],
    })),
    signs: A,
    final: (outcomes, state) => oneWinner(outcomes, state, [B, C]),
  },
  {
    name: "prepare ∥ prepare ∥ prepare",
    at: new Date(t0.getTime() + 2 * HOUR),
    setup: (where) => baseSetup(where, false),
    runs: [B, C, D].map((next) => ({
      start: (where) => prepareRotation({ ...where, keys: signing(A), nextKeys: verifying(next) } as never),
      publishes: [A, next],
    })),
    signs: A,
    final: (outcomes, state) => oneWinner(outcomes, state, [B, C, D]),
  },
  {
    name: "confirm ∥ publish",
    at: new Date(t0.getTime() + 3 * HOUR),
    setup: (where) => baseSetup(where, true),
    runs: [
      {
        start: (where) => confirmRotation({ ...where, keys: [...signing(B), ...verifying(A)] } as never),
        publishes: [A, B],
      },
      { start: asPublish([...signing(B), ...verifying(A)]), publishes: [A, B] },
    ],
    signs: B,
    final(outcomes, state) {
      expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
      expect(state.rotation?.confirmedAt).toBeDefined();
    },
  },
  {
    name: "prune ∥ publish",
    // R retired at t0 + 1 h: its retention has passed.
    at: new Date(t0.getTime() + HOUR + DEFAULT_RETAIN_MS + 1),
    setup: (where) => baseSetup(where, true),
    runs: [
      { start: (where) => pruneRotation({ ...where, keys: signing(A) } as never), publishes: [A, B] },
      { start: asPublish(signing(A)), publishes: [A, B] },
    ],
    signs: A,
    final(outcomes, state) {
      expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
      expect(state.published).not.toContain(kid(R));
      expect(state.rotation?.to).toEqual([kid(B)]);
    },
  },
  {
    name: "withdraw ∥ prepare",
    at: new Date(t0.getTime() + 3 * HOUR),
    setup: (where) => baseSetup(where, true),
    runs: [
      { start: (where) => withdrawRotation({ ...where, keys: signing(A) } as never), publishes: [A, B] },
      {
        start: (where) => prepareRotation({ ...where, keys: signing(A), nextKeys: verifying(C) } as never),
        publishes: [A, C],
      },
    ],
    signs: A,
    final(outcomes, state) {
      expect(outcomes[0]?.ok).toBe(true);
      if (outcomes[1]?.ok) expect(state.rotation?.to).toEqual([kid(C)]);
      else {
        rotationRefusal(outcomes[1], B);
        expect(state.rotation).toBeUndefined();
      }
      expect(state.keys[kid(B)]?.retiredAt).toBeDefined();
    },
  },
];

function oneWinner(outcomes: RunOutcome[], state: StateView, nexts: Pair[]) {
  const winners = nexts.filter((_, index) => outcomes[index]?.ok);
  expect(winners).toHaveLength(1);
  const winner = winners[0] as Pair;
  expect(state.rotation?.to).toEqual([kid(winner)]);
  nexts.forEach((next, index) => {
    if (next === winner) return;
    rotationRefusal(outcomes[index], winner);
    // A loser is never left pending.
    expect(state.keys[kid(next)]?.pending).toBeUndefined();
  });
}

function kidsOf(jwks: string | undefined): string[] {
  return jwks === undefined
    ? []
    : JSON.parse(jwks)
        .keys.map((k: { kid: string }) => k.kid)
        .filter(Boolean);
}

function stateView(body: string): StateView {
  const state = JSON.parse(body);
  // Version 1 kept no order: keys.json held its keys in some order.
  return state.published ? state : { ...state, published: Object.keys(state.keys).sort(), unordered: true };
}

/**
 * keys.json is the render of this state: byte for byte for a state of today's version, which
 * holds the keys; the same keys for one of version 1 (the code before), which held no order.
 */
/**
 * The documents a state stands for, rendered here from the state file's own fields with the
 * public keys and discovery APIs, so that the check does not lean on the publisher's renderer.
 */
interface RenderedState {
  published: string[];
  keys: Record<string, { jwk: PublicJwk }>;
  twin?: string;
}

function renderJwks(state: RenderedState): string {
  const keys = state.published.map((kid) => (state.keys[kid] as { jwk: PublicJwk }).jwk);
  const twin = state.twin === undefined ? undefined : state.keys[state.twin]?.jwk;
  return serializeJwks({ keys: twin ? [...keys, { ...twin, kid: "" }] : keys });
}

function renderDiscovery(issuer: string, state: RenderedState): string {
  const algorithms = state.published.map((kid) => (state.keys[kid] as { jwk: PublicJwk }).jwk.alg);
  return serializeOpenIdConfiguration(openIdConfiguration({ issuer, algorithms }));
}

function rendersFrom(jwks: string | undefined, state: StateView & { unordered?: boolean }): boolean {
  if (state.unordered) return JSON.stringify(kidsOf(jwks).sort()) === JSON.stringify(state.published);
  return jwks === renderJwks(state as unknown as RenderedState);
}

/**
 * What must hold after every access:
 * - the discovery document exists only beside a keys.json that holds the signing key;
 * - keys.json publishes exactly the keys of some state written so far (never one newer than the current);
 * - a key an open rotation names is recorded and not retired, and no key is pending that no open
 *   rotation names;
 * - once a run has succeeded, the keys it published (its cluster's, its next key) stay published.
 */
function checkInvariants(
  scenario: Scenario,
  stored: Stored,
  history: StateView[],
  finished: readonly RunOutcome[],
) {
  const published = kidsOf(stored.keys);
  if (stored.discovery !== undefined) expect(published).toContain(kid(scenario.signs));
  expect(stored.state).toBeDefined();
  const state = stateView(stored.state as string);
  const open = state.rotation && !state.rotation.confirmedAt ? state.rotation.to : [];
  for (const pending of open) {
    expect(state.keys[pending], `pending ${pending} is recorded`).toBeDefined();
    expect(state.keys[pending]?.retiredAt, `pending ${pending} is not retired`).toBeUndefined();
  }
  for (const [name, record] of Object.entries(state.keys)) {
    if (record.pending) expect(open, `${name} is pending only while a rotation names it`).toContain(name);
  }
  expect(
    stored.keys === undefined || history.some((earlier) => rendersFrom(stored.keys, earlier)),
    `keys.json (${published.join(", ")}) is the render of a state written so far`,
  ).toBe(true);
  finished.forEach((outcome, index) => {
    if (!outcome.ok) return;
    for (const p of scenario.runs[index]?.publishes ?? []) {
      expect(published, `run ${index} succeeded, so ${kid(p)} stays published`).toContain(kid(p));
    }
  });
}

interface ResettableWhere extends Where {
  reset(): Promise<void>;
}

const DIRECTORY_SCHEDULES = Number(process.env.INTERLEAVING_SCHEDULES ?? 60);
const S3_SCHEDULES = Number(process.env.INTERLEAVING_S3_SCHEDULES ?? 6);
const explored: string[] = [];
afterAll(() => {
  // The count of schedules is part of what this test proves; say it.
  console.log(`interleavings explored: ${explored.join("; ")}`);
});

describe("concurrent runs, one store access at a time: a directory", () => {
  let root: string;
  let dir: string;
  const scheduler = new Scheduler();
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "irsa-interleave-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const read = (path: string) => readFile(join(dir, path), "utf8").catch(() => undefined);
  let counter = 0;
  const where: ResettableWhere = {
    options: (run) => ({
      issuer,
      keys: [],
      target: scheduledTarget(directoryTarget(dir), scheduler, run),
    }),
    get direct(): PublishOptions {
      return { issuer, keys: [], outDir: dir };
    },
    async view() {
      const [keys, discovery, state] = await Promise.all([
        read("prod/keys.json"),
        read("prod/.well-known/openid-configuration"),
        readFile(join(`${dir}.irsa-anywhere-state`, "prod/state.json"), "utf8").catch(() => undefined),
      ]);
      return { keys, discovery, state };
    },
    async reset() {
      dir = join(root, `run-${counter++}`);
    },
  };

  it.each(scenarios.map((scenario, index) => [scenario.name, index] as const))(
    "%s: no key lost, no stale render, one rotation",
    async (_name, index) => {
      const scenario = scenarios[index] as Scenario;
      const count = scenario.runs.length > 2 ? Math.ceil(DIRECTORY_SCHEDULES / 2) : DIRECTORY_SCHEDULES;
      const result = await exploreSchedules(scheduler, scenario, where, count, 1000 * index);
      explored.push(`directory ${scenario.name}: ${result.schedules} schedules, ${result.steps} steps`);
      expect(result.schedules).toBe(count);
    },
    120_000,
  );
});

/** Runs `schedules` seeded random schedules of a scenario; returns how many, and how many accesses in all. */
async function exploreSchedules(
  scheduler: Scheduler,
  scenario: Scenario,
  where: ResettableWhere,
  schedules: number,
  seed: number,
) {
  let steps = 0;
  for (let schedule = 0; schedule < schedules; schedule++) {
    steps += await runSchedule(scheduler, scenario, where, seed + schedule);
  }
  return { schedules, steps };
}

async function runSchedule(scheduler: Scheduler, scenario: Scenario, where: ResettableWhere, seed: number) {
  const random = seededRandom(seed);
  await where.reset();
  await scenario.setup({ ...where.direct, now: () => scenario.at });
  const history: StateView[] = [];
  const observe = async () => {
    const stored = await where.view();
    if (stored.state !== undefined) {
      const view = stateView(stored.state);
      if (JSON.stringify(history.at(-1)) !== JSON.stringify(view)) history.push(view);
    }
    return stored;
  };
  await observe();
  const label = `${scenario.name}, schedule seed ${seed}`;
  const outcomes = await scheduler.explore(
    scenario.runs.map((run, index) => () => run.start({ ...where.options(index), now: () => scenario.at })),
    (waiting) => Math.floor(random() * waiting),
    async (finished) => {
      try {
        checkInvariants(scenario, await observe(), history, finished);
      } catch (error) {
        throw new Error(`${label}: ${(error as Error).message}`);
      }
    },
  );
  const stored = await observe();
  try {
    for (const outcome of outcomes) {
      if (!outcome.ok && (outcome.error as { code?: string })?.code !== "ERR_ROTATION_PRECONDITION")
        throw outcome.error;
    }
    checkInvariants(scenario, stored, history, outcomes);
    const state = stateView(stored.state as string);
    // All runs done: both documents are exactly the current state's.
    expect(rendersFrom(stored.keys, state), "keys.json is the render of the current state").toBe(true);
    if (!("unordered" in state)) {
      const servedIssuer = JSON.parse(stored.discovery as string).issuer;
      expect(stored.discovery).toBe(renderDiscovery(servedIssuer, state as unknown as RenderedState));
    }
    scenario.final(outcomes, state);
  } catch (error) {
    throw new Error(`${label}: ${(error as Error).message}`);
  }
  return scheduler.steps;
}

describe("concurrent runs, one store access at a time: S3 through pausing proxies", () => {
  const bucket = "interleavings";
  let moto: MotoServer;
  let proxies: RecordingProxy[];
  let direct: S3Client;
  const scheduler = new Scheduler();
  beforeAll(async () => {
    moto = await startMoto();
    proxies = await Promise.all([0, 1, 2].map(() => startRecordingProxy(moto.endpoint)));
    proxies.forEach((proxy, run) => {
      proxy.hold = (request) => scheduler.step(run, `${request.method} ${request.path}`);
    });
    direct = new S3Client(s3TestClientConfig(moto.endpoint));
  });
  afterAll(async () => {
    await Promise.all((proxies ?? []).map((proxy) => proxy.close()));
    await moto?.stop();
  });

  const object = async (key: string) => {
    try {
      const answer = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await answer.Body?.transformToString();
    } catch {
      return undefined;
    }
  };
  const s3Options = (endpoint: string): PublishOptions => ({
    keys: [],
    bucket,
    prefix: "prod",
    region: "us-east-1",
    endpointUrl: endpoint,
    oidcProvider: false,
    clients: { s3: new S3Client({ ...s3TestClientConfig(endpoint), maxAttempts: 1 }) },
  });
  const where: ResettableWhere = {
    options: (run) => s3Options((proxies[run] as RecordingProxy).url),
    // The set-up makes the two documents public, as STS needs them (publish refuses otherwise).
    get direct() {
      return { ...s3Options(moto.endpoint), publicReadPolicy: true };
    },
    async view() {
      const [keys, discovery, state] = await Promise.all([
        object("prod/keys.json"),
        object("prod/.well-known/openid-configuration"),
        object("prod/.irsa-anywhere-state.json"),
      ]);
      return { keys, discovery, state };
    },
    async reset() {
      await moto.reset();
      await direct.send(new CreateBucketCommand({ Bucket: bucket }));
    },
  };

  it.each(scenarios.map((scenario, index) => [scenario.name, index] as const))(
    "%s: no key lost, no stale render, one rotation",
    async (_name, index) => {
      const scenario = scenarios[index] as Scenario;
      const result = await exploreSchedules(scheduler, scenario, where, S3_SCHEDULES, 50_000 + 1000 * index);
      explored.push(`S3 ${scenario.name}: ${result.schedules} schedules, ${result.steps} steps`);
      expect(result.schedules).toBe(S3_SCHEDULES);
    },
    300_000,
  );
});
