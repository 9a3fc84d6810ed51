import { describe, expect, it } from "vitest";
import { iamRegionOf, PARTITION_NAMES, partitionNamed, partitionOf } from "./partition.js";

describe("partitionOf", () => {
  it.each([
    ["us-west-2", "aws", "amazonaws.com", "us-east-1"],
    ["eu-central-1", "aws", "amazonaws.com", "us-east-1"],
    ["cn-north-1", "aws-cn", "amazonaws.com.cn", "cn-northwest-1"],
    ["us-gov-west-1", "aws-us-gov", "amazonaws.com", "us-gov-west-1"],
    ["us-iso-east-1", "aws-iso", "c2s.ic.gov", "us-iso-east-1"],
    ["us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov", "us-isob-east-1"],
    ["eusc-de-east-1", "aws-eusc", "amazonaws.eu", "eusc-de-east-1"],
    // A region the SDK's data does not list yet, matched by its partition's pattern.
    ["cn-south-9", "aws-cn", "amazonaws.com.cn", "cn-northwest-1"],
    ["not-a-region", "aws", "amazonaws.com", "us-east-1"],
  ])("puts %s in %s (%s, IAM in %s)", (region, name, dnsSuffix, iamRegion) => {
    expect(partitionOf(region)).toEqual({ name, dnsSuffix, iamRegion });
  });
});

describe("partitionNamed", () => {
  it.each(PARTITION_NAMES.map((name) => [name]))("finds %s in the SDK's data under its own name", (name) => {
    expect(partitionNamed(name).name).toBe(name);
    expect(partitionOf(iamRegionOf(name)).name).toBe(name);
  });

  it("takes a name it does not know for aws, as the SDK does a region", () => {
    expect(partitionNamed("aws-moon")).toEqual(partitionNamed("aws"));
  });
});
