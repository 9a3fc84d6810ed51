import { and, type ConditionEvaluation, evaluateConditions, type Truth } from "./iam-condition.js";
import { parsePolicyText } from "./policy-text.js";
import { matchesWildcard } from "./wildcard.js";

/** What STS presents to a role's trust policy for one web identity token. */
export interface WebIdentityRequest {
  /** The ARN of the issuer's IAM OIDC provider: the `Federated` principal. */
  providerArn: string;
  /** The issuer without `https://`: the prefix of the condition keys (`<hostPath>:sub`). */
  issuerHostPath: string;
  /** The token's `sub`, e.g. `system:serviceaccount:payments:api`. */
  subject: string;
  /** The token's `aud`. */
  audience: string;
}

/** One statement of a trust policy, evaluated against a request. */
export interface StatementEvaluation {
  /** 1-based, as a reader counts. */
  number: number;
  sid?: string;
  effect: string;
  principal: Truth;
  action: Truth;
  conditions: ConditionEvaluation;
  /** Principal, action and conditions all hold. */
  applies: Truth;
  /** One line on why it applies or not. */
  explanation: string;
}

/** Whether a trust policy lets a web identity in, and which statements decided it. */
export interface TrustPolicyEvaluation {
  /** `"unknown"` when the answer hangs on something this evaluator cannot decide. */
  decision: "allowed" | "denied" | "unknown";
  /** One line naming the statement and, when it fails, the condition that fails. */
  reason: string;
  statements: StatementEvaluation[];
}

const action = "sts:AssumeRoleWithWebIdentity";

/**
 * Decides whether a role's trust policy lets a web identity token in, as IAM does: an explicit
 * `Deny` that applies wins; otherwise an `Allow` whose `Federated` principal is the provider,
 * whose `Action` covers `sts:AssumeRoleWithWebIdentity` and whose conditions all hold
 * ({@link evaluateConditions}) lets it in; otherwise it is denied.
 *
 * The request context holds `<hostPath>:sub` and `<hostPath>:aud`. Keys of another issuer are
 * absent, as STS sets keys only for the token's own issuer; keys whose value only AWS knows
 * (`aws:…`, other claims) make the answer `"unknown"` rather than a guess.
 *
 * @param policy the policy document: an object, JSON text, or JSON text URL-encoded as the IAM
 *   API returns it.
 *
 * @example
 * const iam = new IAMClient({ region: "us-east-1", ...awsClientConfig({}) });
 * const { Role: role } = await iam.send(new GetRoleCommand({ RoleName: "payments-api" }));
 * evaluateTrustPolicy(role?.AssumeRolePolicyDocument, {
 *   providerArn: "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/prod",
 *   issuerHostPath: "oidc.example.com/prod",
 *   subject: "system:serviceaccount:payments:api",
 *   audience: "sts.amazonaws.com",
 * }).decision; // "allowed"
 */
export function evaluateTrustPolicy(policy: unknown, request: WebIdentityRequest): TrustPolicyEvaluation {
  const document = parsePolicyText(policy);
  const rawStatements = (document as { Statement?: unknown } | undefined)?.Statement;
  if (typeof document !== "object" || document === null || rawStatements === undefined) {
    return { decision: "unknown", reason: "the trust policy is not a JSON policy document", statements: [] };
  }
  const statements = [rawStatements]
    .flat()
    .map((statement, index) => evaluateStatement(statement, index + 1, request));

  const denies = statements.filter((s) => s.effect === "Deny");
  const allows = statements.filter((s) => s.effect === "Allow");
  const denying = denies.find((s) => s.applies === true);
  if (denying) return { decision: "denied", reason: denying.explanation, statements };
  const allowing = allows.find((s) => s.applies === true);
  const undecidedDeny = denies.find((s) => s.applies === "unknown");
  if (allowing && !undecidedDeny) return { decision: "allowed", reason: allowing.explanation, statements };
  if (allowing && undecidedDeny)
    return { decision: "unknown", reason: undecidedDeny.explanation, statements };
  const undecidedAllow = allows.find((s) => s.applies === "unknown");
  if (undecidedAllow) return { decision: "unknown", reason: undecidedAllow.explanation, statements };
  return { decision: "denied", reason: whyNoStatementAllows(allows, request), statements };
}

function evaluateStatement(raw: unknown, number: number, request: WebIdentityRequest): StatementEvaluation {
  const statement = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const sid = typeof statement.Sid === "string" && statement.Sid !== "" ? statement.Sid : undefined;
  const effect = typeof statement.Effect === "string" ? statement.Effect : "(none)";
  const name = `statement ${number}${sid ? ` (${sid})` : ""}`;
  const principal =
    "NotPrincipal" in statement
      ? negate(principalMatches(statement.NotPrincipal, request.providerArn))
      : principalMatches(statement.Principal, request.providerArn);
  const actionMatches =
    "NotAction" in statement
      ? negate(actionListMatches(statement.NotAction))
      : actionListMatches(statement.Action);
  const hostPath = request.issuerHostPath.toLowerCase();
  const conditions = evaluateConditions(
    statement.Condition,
    {
      [`${request.issuerHostPath}:sub`]: request.subject,
      [`${request.issuerHostPath}:aud`]: request.audience,
    },
    { isUnknownKey: (key) => isUnknownKey(key.toLowerCase(), hostPath) },
  );
  const applies = and([principal, actionMatches, conditions.result]);
  let explanation: string;
  if (principal !== true) {
    explanation = `${name} ${principal === false ? "does not trust" : "may not trust"} ${request.providerArn} (it trusts ${describePrincipal(statement)})`;
  } else if (actionMatches !== true) {
    explanation = `${name} trusts the provider but allows ${describeActions(statement)}, not ${action}`;
  } else if (conditions.result !== true) {
    const clause =
      conditions.clauses.find((c) => c.result === false) ??
      conditions.clauses.find((c) => c.result === "unknown");
    explanation = clause
      ? `${name}: ${clause.operator} on ${clause.key}: ${clause.reason}`
      : `${name}: its Condition cannot be read`;
  } else {
    explanation = `${name} ${effect === "Deny" ? "denies" : "lets in"} ${request.subject} with audience ${request.audience}`;
  }
  return {
    number,
    ...(sid ? { sid } : {}),
    effect,
    principal,
    action: actionMatches,
    conditions,
    applies,
    explanation,
  };
}

/**
 * Keys STS sets for a token: `<issuer>:sub` and `<issuer>:aud`, known here. Keys of another issuer
 * are never set (absent). Other claims of this issuer and global keys such as `aws:SourceIp` have
 * values only AWS knows.
 */
function isUnknownKey(key: string, hostPath: string): boolean {
  const colon = key.lastIndexOf(":");
  const prefix = key.slice(0, colon);
  const claim = key.slice(colon + 1);
  if (prefix === hostPath) return claim !== "sub" && claim !== "aud";
  const looksLikeAnIssuer = prefix.includes(".") || prefix.includes("/");
  return !looksLikeAnIssuer;
}

function principalMatches(principal: unknown, providerArn: string): Truth {
  if (principal === "*") return true;
  if (typeof principal !== "object" || principal === null) return false;
  const federated = (principal as Record<string, unknown>).Federated;
  const listed = [federated].flat().filter((value): value is string => typeof value === "string");
  return listed.includes(providerArn) || listed.includes("*");
}

function actionListMatches(actions: unknown): Truth {
  const listed = [actions].flat().filter((value): value is string => typeof value === "string");
  return listed.some((pattern) => matchesWildcard(pattern, action, { ignoreCase: true }));
}

function negate(truth: Truth): Truth {
  return truth === "unknown" ? truth : !truth;
}

function describePrincipal(statement: Record<string, unknown>): string {
  const principal = statement.Principal ?? statement.NotPrincipal;
  if (typeof principal === "string") return principal;
  if (typeof principal !== "object" || principal === null) return "no principal";
  return Object.entries(principal as Record<string, unknown>)
    .map(([kind, value]) => `${kind} ${[value].flat().join(", ")}`)
    .join("; ");
}

function describeActions(statement: Record<string, unknown>): string {
  const listed = [statement.Action ?? statement.NotAction].flat().filter((v) => typeof v === "string");
  return listed.length ? listed.join(", ") : "no action";
}

function whyNoStatementAllows(allows: readonly StatementEvaluation[], request: WebIdentityRequest): string {
  const closest =
    allows.find((s) => s.principal === true && s.action === true) ??
    allows.find((s) => s.principal === true) ??
    allows[0];
  if (!closest) return `the trust policy has no Allow statement for ${request.providerArn}`;
  return closest.explanation;
}
