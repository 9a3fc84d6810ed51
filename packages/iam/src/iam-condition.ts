/**
 * A three-valued truth: `"unknown"` where IAM's answer cannot be worked out here (an operator
 * this evaluator does not implement, a policy variable, a key whose value only AWS knows).
 */
export type Truth = boolean | "unknown";

/**
 * The request's condition keys and their values. Keys are matched without regard to case, as
 * IAM matches them; a key that is not here is absent from the request.
 */
export type ConditionContext = Readonly<Record<string, string | readonly string[]>>;

/** How `evaluateConditions` treats condition keys whose value it does not know. */
export interface ConditionOptions {
  /**
   * Keys whose presence and value cannot be known here (e.g. `aws:SourceIp`): a clause on one
   * evaluates to `"unknown"` instead of treating the key as absent. Default: none, every key
   * not in the context is absent.
   */
  isUnknownKey?: (key: string) => boolean;
}

/** One operator–key pair of a `Condition` block, evaluated. */
export interface ConditionClause {
  /** As written, e.g. `ForAnyValue:StringLikeIfExists`. */
  operator: string;
  /** As written, e.g. `oidc.example.com/prod:sub`. */
  key: string;
  /** The policy's values for the key, as strings. */
  values: string[];
  /** The request's values for the key; empty when the key is absent. */
  requestValues: string[];
  result: Truth;
  /** One line saying why, e.g. `"system:serviceaccount:a:b" matches none of "system:serviceaccount:a:c"`. */
  reason: string;
}

/** A whole `Condition` block, evaluated: every clause must hold (AND). */
export interface ConditionEvaluation {
  result: Truth;
  clauses: ConditionClause[];
}

type BaseOperator =
  | "StringEquals"
  | "StringNotEquals"
  | "StringEqualsIgnoreCase"
  | "StringNotEqualsIgnoreCase"
  | "StringLike"
  | "StringNotLike"
  | "Null";

interface ParsedOperator {
  base: BaseOperator;
  set: "ForAnyValue" | "ForAllValues" | undefined;
  ifExists: boolean;
}

const baseOperators: readonly BaseOperator[] = [
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "Null",
];

/**
 * Evaluates an IAM policy statement's `Condition` block against a request, as IAM does:
 *
 * - several operators, and several keys under one operator, must all hold (AND);
 * - several values for one key: any may match (OR), and for a negated operator
 *   (`StringNotEquals`, `StringNotLike`…) none may (NOR);
 * - a key absent from the request fails a positive operator and satisfies a negated one;
 *   `…IfExists` holds for an absent key; `Null` tests presence;
 * - `ForAnyValue:` holds when at least one request value satisfies the operator (never for an
 *   absent key), `ForAllValues:` when every one does (always for an absent key);
 * - `StringLike` and `StringNotLike` take `*` (any run of characters) and `?` (one character);
 *   `${*}`, `${?}` and `${$}` stand for the literal characters.
 *
 * Operators it does not implement (`Numeric…`, `Date…`, `Arn…`, `Bool`, `IpAddress`…), policy
 * variables such as `${aws:username}` and malformed values give `"unknown"` with a reason,
 * never a guess.
 *
 * @example
 * evaluateConditions(
 *   { StringEquals: { "oidc.example.com/prod:sub": "system:serviceaccount:default:app" } },
 *   { "oidc.example.com/prod:sub": "system:serviceaccount:default:app" },
 * ).result; // true
 */
export function evaluateConditions(
  block: unknown,
  context: ConditionContext,
  options: ConditionOptions = {},
): ConditionEvaluation {
  if (block === undefined) return { result: true, clauses: [] };
  if (!isRecord(block)) {
    return {
      result: "unknown",
      clauses: [unknownClause("Condition", "", [], "the Condition element is not a JSON object")],
    };
  }
  const lookup = new Map<string, string[]>();
  for (const [key, value] of Object.entries(context)) lookup.set(key.toLowerCase(), [value].flat());
  const clauses: ConditionClause[] = [];
  for (const [operator, keys] of Object.entries(block)) {
    if (!isRecord(keys)) {
      clauses.push(unknownClause(operator, "", [], `${operator} does not map condition keys to values`));
      continue;
    }
    for (const [key, raw] of Object.entries(keys)) {
      clauses.push(evaluateClause(operator, key, raw, lookup, options));
    }
  }
  return { result: and(clauses.map((clause) => clause.result)), clauses };
}

/** @internal Three-valued AND: false wins, then unknown. */
export function and(values: readonly Truth[]): Truth {
  if (values.includes(false)) return false;
  if (values.includes("unknown")) return "unknown";
  return true;
}

function evaluateClause(
  operator: string,
  key: string,
  raw: unknown,
  lookup: ReadonlyMap<string, string[]>,
  options: ConditionOptions,
): ConditionClause {
  const values = policyValues(raw);
  if (values === undefined) {
    return unknownClause(operator, key, [], `the values of ${key} are not strings`);
  }
  const parsed = parseOperator(operator);
  if (parsed === undefined) {
    return unknownClause(operator, key, values, `the operator ${operator} is not evaluated here`);
  }
  if (options.isUnknownKey?.(key)) {
    return unknownClause(operator, key, values, `the value of ${key} is known only to AWS`);
  }
  const requestValues = lookup.get(key.toLowerCase()) ?? [];
  const present = requestValues.length > 0;
  const clause = (result: Truth, reason: string): ConditionClause => ({
    operator,
    key,
    values,
    requestValues,
    result,
    reason,
  });

  if (parsed.base === "Null") {
    if (parsed.set !== undefined || parsed.ifExists) {
      return clause("unknown", `${operator} is not a valid operator`);
    }
    if (values.length !== 1 || !["true", "false"].includes(values[0] ?? "")) {
      return clause("unknown", `Null takes "true" or "false", not ${list(values)}`);
    }
    const wantsAbsent = values[0] === "true";
    return clause(
      wantsAbsent !== present,
      present ? `${key} is present in the request` : `${key} is absent from the request`,
    );
  }

  if (!present) {
    if (parsed.ifExists) return clause(true, `${key} is absent, and ${operator} holds for an absent key`);
    if (parsed.set === "ForAllValues") {
      return clause(true, `${key} is absent, and ForAllValues holds for an absent key`);
    }
    if (parsed.set === "ForAnyValue") {
      return clause(false, `${key} is absent from the request, and ForAnyValue needs a value`);
    }
    const negated = isNegated(parsed.base);
    return clause(
      negated,
      negated ? `${key} is absent, which satisfies ${operator}` : `${key} is absent from the request`,
    );
  }

  const matchers: Matcher[] = [];
  for (const value of values) {
    const matcher = compile(value, parsed.base);
    if (typeof matcher === "string") return clause("unknown", matcher);
    matchers.push(matcher);
  }
  const negated = isNegated(parsed.base);
  // Whether one request value satisfies the operator: it matches one of the values (OR), or,
  // negated, it matches none of them (NOR).
  const satisfies = (requestValue: string) => matchers.some((m) => m(requestValue)) !== negated;
  const result =
    parsed.set === "ForAllValues"
      ? requestValues.every(satisfies)
      : parsed.set === "ForAnyValue"
        ? requestValues.some(satisfies)
        : negated
          ? requestValues.every(satisfies)
          : requestValues.some(satisfies);
  return clause(result, describe(result, negated, requestValues, values, parsed.base));
}

function describe(
  result: boolean,
  negated: boolean,
  requestValues: readonly string[],
  values: readonly string[],
  base: BaseOperator,
): string {
  const verb = base === "StringLike" || base === "StringNotLike" ? "matches" : "equals";
  const given = list(requestValues);
  const matched = result !== negated;
  return matched ? `${given} ${verb} one of ${list(values)}` : `${given} ${verb} none of ${list(values)}`;
}

type Matcher = (value: string) => boolean;

/** A matcher for one policy value, or the reason it cannot be evaluated. */
function compile(value: string, base: BaseOperator): Matcher | string {
  const like = base === "StringLike" || base === "StringNotLike";
  const ignoreCase = base === "StringEqualsIgnoreCase" || base === "StringNotEqualsIgnoreCase";
  let pattern = "";
  let literal = "";
  for (let i = 0; i < value.length; i++) {
    const char = value.charAt(i);
    if (char === "$" && value.charAt(i + 1) === "{") {
      const end = value.indexOf("}", i);
      const inside = end === -1 ? undefined : value.slice(i + 2, end);
      if (inside === "*" || inside === "?" || inside === "$") {
        pattern += escapeRegExp(inside);
        literal += inside;
        i = end;
        continue;
      }
      return `the policy variable ${value.slice(i, end === -1 ? undefined : end + 1)} is not evaluated here`;
    }
    if (like && char === "*") pattern += "[\\s\\S]*";
    else if (like && char === "?") pattern += "[\\s\\S]";
    else pattern += escapeRegExp(char);
    literal += char;
  }
  if (like) {
    const regExp = new RegExp(`^${pattern}$`, "u");
    return (candidate) => regExp.test(candidate);
  }
  if (ignoreCase) {
    const lower = literal.toLowerCase();
    return (candidate) => candidate.toLowerCase() === lower;
  }
  return (candidate) => candidate === literal;
}

function parseOperator(operator: string): ParsedOperator | undefined {
  let rest = operator;
  let set: ParsedOperator["set"];
  const colon = rest.indexOf(":");
  if (colon !== -1) {
    const qualifier = rest.slice(0, colon).toLowerCase();
    if (qualifier === "foranyvalue") set = "ForAnyValue";
    else if (qualifier === "forallvalues") set = "ForAllValues";
    else return undefined;
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (rest.toLowerCase().endsWith("ifexists")) {
    ifExists = true;
    rest = rest.slice(0, -"IfExists".length);
  }
  const base = baseOperators.find((candidate) => candidate.toLowerCase() === rest.toLowerCase());
  return base === undefined ? undefined : { base, set, ifExists };
}

function isNegated(base: BaseOperator): boolean {
  return base === "StringNotEquals" || base === "StringNotEqualsIgnoreCase" || base === "StringNotLike";
}

/** A policy's values for a key as strings (IAM reads `true` and `1` as "true" and "1"). */
function policyValues(raw: unknown): string[] | undefined {
  const values = Array.isArray(raw) ? raw : [raw];
  const strings: string[] = [];
  for (const value of values) {
    if (typeof value === "string") strings.push(value);
    else if (typeof value === "number" || typeof value === "boolean") strings.push(String(value));
    else return undefined;
  }
  return strings;
}

function unknownClause(operator: string, key: string, values: string[], reason: string): ConditionClause {
  return { operator, key, values, requestValues: [], result: "unknown", reason };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function list(values: readonly string[]): string {
  return values.map((value) => JSON.stringify(value)).join(", ") || "(nothing)";
}
