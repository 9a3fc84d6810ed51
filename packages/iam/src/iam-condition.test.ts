// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables such as ${aws:username} are plain text here
import { describe, expect, it } from "vitest";
import { type ConditionContext, evaluateConditions, type Truth } from "./index.js";

const sub = "oidc.example.com/prod:sub";
const aud = "oidc.example.com/prod:aud";
const app = "system:serviceaccount:payments:api";
const request: ConditionContext = { [sub]: app, [aud]: "sts.amazonaws.com" };

type Case = [name: string, condition: unknown, expected: Truth];

describe("evaluateConditions: one operator, one key", () => {
  const cases: Case[] = [
    ["StringEquals, the exact value", { StringEquals: { [sub]: app } }, true],
    ["StringEquals is case-sensitive", { StringEquals: { [sub]: app.toUpperCase() } }, false],
    [
      "StringEquals takes * literally",
      { StringEquals: { [sub]: "system:serviceaccount:payments:*" } },
      false,
    ],
    [
      "StringEquals, another service account",
      { StringEquals: { [sub]: "system:serviceaccount:payments:web" } },
      false,
    ],
    ["StringEqualsIgnoreCase ignores case", { StringEqualsIgnoreCase: { [sub]: app.toUpperCase() } }, true],
    ["StringNotEquals, another value", { StringNotEquals: { [sub]: "system:serviceaccount:a:b" } }, true],
    ["StringNotEquals, the same value", { StringNotEquals: { [sub]: app } }, false],
    [
      "StringNotEqualsIgnoreCase, same but for case",
      { StringNotEqualsIgnoreCase: { [sub]: app.toUpperCase() } },
      false,
    ],
    ["StringLike with *", { StringLike: { [sub]: "system:serviceaccount:payments:*" } }, true],
    [
      "StringLike with * in another namespace",
      { StringLike: { [sub]: "system:serviceaccount:billing:*" } },
      false,
    ],
    ["StringLike with ?", { StringLike: { [sub]: "system:serviceaccount:payments:a?i" } }, true],
    [
      "StringLike ? is exactly one character",
      { StringLike: { [sub]: "system:serviceaccount:payments:a?" } },
      false,
    ],
    ["StringLike * matches across colons", { StringLike: { [sub]: "system:*" } }, true],
    ["StringLike * alone matches anything", { StringLike: { [sub]: "*" } }, true],
    [
      "StringLike without wildcards is exact",
      { StringLike: { [sub]: "system:serviceaccount:payments" } },
      false,
    ],
    ["StringLike is case-sensitive", { StringLike: { [sub]: "SYSTEM:*" } }, false],
    [
      "StringLike treats regex characters literally",
      { StringLike: { [sub]: "system.serviceaccount.*" } },
      false,
    ],
    [
      "StringNotLike, a pattern that does not match",
      { StringNotLike: { [sub]: "system:serviceaccount:kube-system:*" } },
      true,
    ],
    [
      "StringNotLike, a pattern that matches",
      { StringNotLike: { [sub]: "system:serviceaccount:payments:*" } },
      false,
    ],
    ["condition keys are case-insensitive", { StringEquals: { [sub.toUpperCase()]: app } }, true],
    ["a number value is compared as text", { StringEquals: { "k:n": 42 } }, false],
  ];
  it.each(cases)("%s", (_name, condition, expected) => {
    expect(evaluateConditions(condition, request).result).toBe(expected);
  });
});

describe("evaluateConditions: multiple values, keys and operators", () => {
  const cases: Case[] = [
    [
      "values of one key: any may match (OR)",
      { StringEquals: { [sub]: ["system:serviceaccount:a:b", app] } },
      true,
    ],
    ["values of one key: none match", { StringEquals: { [sub]: ["system:serviceaccount:a:b", "x"] } }, false],
    ["negated values: none may match (NOR), and none does", { StringNotEquals: { [sub]: ["a", "b"] } }, true],
    ["negated values: one matches, so the clause fails", { StringNotEquals: { [sub]: ["a", app] } }, false],
    ["StringNotLike values: NOR", { StringNotLike: { [sub]: ["x:*", "system:*"] } }, false],
    [
      "two keys under one operator: both must hold (AND)",
      { StringEquals: { [sub]: app, [aud]: "sts.amazonaws.com" } },
      true,
    ],
    ["two keys, the second fails", { StringEquals: { [sub]: app, [aud]: "other" } }, false],
    [
      "two operators: both must hold (AND)",
      {
        StringEquals: { [aud]: "sts.amazonaws.com" },
        StringLike: { [sub]: "system:serviceaccount:payments:*" },
      },
      true,
    ],
    [
      "two operators, one fails",
      {
        StringEquals: { [aud]: "sts.amazonaws.com" },
        StringLike: { [sub]: "system:serviceaccount:billing:*" },
      },
      false,
    ],
    ["an empty block holds", {}, true],
    ["an empty list of values never matches", { StringEquals: { [sub]: [] } }, false],
  ];
  it.each(cases)("%s", (_name, condition, expected) => {
    expect(evaluateConditions(condition, request).result).toBe(expected);
  });

  it("holds when there is no Condition at all", () => {
    expect(evaluateConditions(undefined, request)).toEqual({ result: true, clauses: [] });
  });
});

describe("evaluateConditions: keys absent from the request", () => {
  const absent = "other.example.com:sub";
  const cases: Case[] = [
    ["a positive operator fails", { StringEquals: { [absent]: app } }, false],
    ["StringLike * still needs the key", { StringLike: { [absent]: "*" } }, false],
    ["a negated operator holds", { StringNotEquals: { [absent]: app } }, true],
    ["StringNotLike holds", { StringNotLike: { [absent]: "*" } }, true],
    ["...IfExists holds", { StringEqualsIfExists: { [absent]: app } }, true],
    ["...IfExists still checks a present key", { StringEqualsIfExists: { [sub]: "x" } }, false],
    ["StringLikeIfExists, present and matching", { StringLikeIfExists: { [sub]: "system:*" } }, true],
    ["Null true: the key is absent", { Null: { [absent]: "true" } }, true],
    ["Null true, but the key is present", { Null: { [sub]: "true" } }, false],
    ["Null false: the key is present", { Null: { [sub]: "false" } }, true],
    ["Null takes a boolean JSON value", { Null: { [absent]: true } }, true],
  ];
  it.each(cases)("%s", (_name, condition, expected) => {
    expect(evaluateConditions(condition, request).result).toBe(expected);
  });
});

describe("evaluateConditions: set qualifiers over multi-valued keys", () => {
  const tags = { "aws:TagKeys": ["team", "cost-center"] };
  const cases: Array<[string, unknown, ConditionContext, Truth]> = [
    [
      "ForAnyValue: one request value matches",
      { "ForAnyValue:StringEquals": { "aws:TagKeys": "team" } },
      tags,
      true,
    ],
    ["ForAnyValue: none matches", { "ForAnyValue:StringEquals": { "aws:TagKeys": "owner" } }, tags, false],
    [
      "ForAnyValue: an absent key fails",
      { "ForAnyValue:StringEquals": { "aws:TagKeys": "team" } },
      {},
      false,
    ],
    [
      "ForAllValues: every request value matches one of the values",
      { "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "cost-center", "owner"] } },
      tags,
      true,
    ],
    [
      "ForAllValues: one request value matches none",
      { "ForAllValues:StringEquals": { "aws:TagKeys": "team" } },
      tags,
      false,
    ],
    [
      "ForAllValues: an absent key holds",
      { "ForAllValues:StringEquals": { "aws:TagKeys": "team" } },
      {},
      true,
    ],
    [
      "ForAllValues:StringLike",
      { "ForAllValues:StringLike": { "aws:TagKeys": ["t*", "cost-*"] } },
      tags,
      true,
    ],
    [
      "ForAllValues:StringNotLike: every value avoids the pattern",
      { "ForAllValues:StringNotLike": { "aws:TagKeys": "key1*" } },
      { "aws:TagKeys": ["key2:audit"] },
      true,
    ],
    [
      "ForAllValues:StringNotLike: a value matches the pattern",
      { "ForAllValues:StringNotLike": { "aws:TagKeys": "key1*" } },
      { "aws:TagKeys": ["key1:legal"] },
      false,
    ],
    [
      "ForAnyValue:StringNotEquals: one value differs",
      { "ForAnyValue:StringNotEquals": { "aws:TagKeys": "team" } },
      tags,
      true,
    ],
    [
      "ForAnyValue:StringEqualsIfExists with the key absent",
      { "ForAnyValue:StringEqualsIfExists": { "aws:TagKeys": "team" } },
      {},
      true,
    ],
    [
      "a multi-valued key without qualifier: any value",
      { StringEquals: { "aws:TagKeys": "team" } },
      tags,
      true,
    ],
    [
      "a multi-valued key, negated without qualifier: no value",
      { StringNotEquals: { "aws:TagKeys": "team" } },
      tags,
      false,
    ],
  ];
  it.each(cases)("%s", (_name, condition, context, expected) => {
    expect(evaluateConditions(condition, context).result).toBe(expected);
  });
});

describe("evaluateConditions: special characters and policy variables", () => {
  const cases: Array<[string, unknown, ConditionContext, Truth]> = [
    ["${*} is a literal *", { StringLike: { k: "a${*}" } }, { k: "a*" }, true],
    ["${*} does not match anything else", { StringLike: { k: "a${*}" } }, { k: "ab" }, false],
    ["${?} is a literal ?", { StringLike: { k: "a${?}" } }, { k: "a?" }, true],
    ["${$} is a literal $", { StringEquals: { k: "${$}x" } }, { k: "$x" }, true],
  ];
  it.each(cases)("%s", (_name, condition, context, expected) => {
    expect(evaluateConditions(condition, context).result).toBe(expected);
  });
});

describe("evaluateConditions: what it does not guess", () => {
  const cases: Array<[string, unknown, RegExp]> = [
    [
      "an operator it does not implement",
      { NumericLessThan: { "aws:MultiFactorAuthAge": "3600" } },
      /not evaluated/,
    ],
    ["a date operator", { DateGreaterThan: { "aws:CurrentTime": "2020-01-01T00:00:00Z" } }, /not evaluated/],
    ["an unknown set qualifier", { "ForSomeValues:StringEquals": { [sub]: app } }, /not evaluated/],
    ["a misspelt operator", { StringEqual: { [sub]: app } }, /not evaluated/],
    [
      "a policy variable",
      { StringEquals: { [sub]: "system:serviceaccount:${aws:username}:api" } },
      /policy variable/,
    ],
    ["a value that is an object", { StringEquals: { [sub]: { a: 1 } } }, /not strings/],
    ["an operator that maps to a list", { StringEquals: [sub] }, /does not map/],
    ["Null with a qualifier", { "ForAnyValue:Null": { [sub]: "true" } }, /not a valid operator/],
    ["Null with a value other than true or false", { Null: { [sub]: "yes" } }, /"true" or "false"/],
  ];
  it.each(cases)("reports %s as unknown, with the reason", (_name, condition, reason) => {
    const evaluation = evaluateConditions(condition, request);
    expect(evaluation.result).toBe("unknown");
    expect(evaluation.clauses.map((clause) => clause.reason).join(" ")).toMatch(reason);
  });

  it("lets a false clause decide over an unknown one (AND)", () => {
    const evaluation = evaluateConditions(
      { NumericLessThan: { "aws:MultiFactorAuthAge": "3600" }, StringEquals: { [sub]: "x" } },
      request,
    );
    expect(evaluation.result).toBe(false);
  });

  it("reports a key the caller marks as unknown as unknown, not absent", () => {
    const evaluation = evaluateConditions({ StringEquals: { "aws:SourceIp": "10.0.0.1" } }, request, {
      isUnknownKey: (key) => key.startsWith("aws:"),
    });
    expect(evaluation.result).toBe("unknown");
  });

  it("says which value failed and against what", () => {
    const [clause] = evaluateConditions(
      { StringEquals: { [sub]: "system:serviceaccount:payments:web" } },
      request,
    ).clauses;
    expect(clause).toMatchObject({
      operator: "StringEquals",
      key: sub,
      values: ["system:serviceaccount:payments:web"],
      requestValues: [app],
      result: false,
    });
    expect(clause?.reason).toBe(`"${app}" equals none of "system:serviceaccount:payments:web"`);
  });
});
