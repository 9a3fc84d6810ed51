import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  generateSigningKey,
  KeysError,
  publicKeysFromSecretManifest,
  signingKeySecretManifest,
} from "./index.js";

const next = generateSigningKey("ec-p256");
const previous = generateSigningKey("rsa-2048");

const manifest = (name: string, namespace: string) =>
  signingKeySecretManifest({
    name,
    namespace,
    privateKeyPem: next.privateKeyPem,
    publicKeys: [next.key, previous.key],
  });

describe("signingKeySecretManifest", () => {
  it("holds the new private key, and the new then the previous public key in tls.crt", async () => {
    const text = manifest("prod-sa", "eksa-system");
    const secret = parse(text);
    expect(secret).toMatchObject({
      kind: "Secret",
      metadata: { name: "prod-sa", namespace: "eksa-system" },
      type: "cluster.x-k8s.io/secret",
    });
    const crt = Buffer.from(secret.data["tls.crt"], "base64").toString();
    expect(crt).not.toContain("PRIVATE");
    expect(crt).toBe(next.publicKeyPem + previous.publicKeyPem);
    const keys = await publicKeysFromSecretManifest(text, "manifest");
    expect(keys.map((key) => key.kid)).toEqual([next.key.kid, next.key.kid, previous.key.kid]);
  });

  it.each([
    ["a newline in the name", "prod-sa\n  labels: {x: y}", "eksa-system"],
    ["upper case in the name", "Prod-sa", "eksa-system"],
    ["a name over 253 characters", "a".repeat(254), "eksa-system"],
    ["a newline in the namespace", "prod-sa", "eksa-system\nkind: ConfigMap"],
    ["a dot in the namespace", "prod-sa", "eksa.system"],
    ["a namespace over 63 characters", "prod-sa", "a".repeat(64)],
    ["an empty name", "", "eksa-system"],
  ])("refuses %s", (_, name, namespace) => {
    const error = (() => {
      try {
        manifest(name, namespace);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(KeysError);
    expect((error as KeysError).code).toBe("ERR_SECRET_NAME_INVALID");
    expect((error as KeysError).message).not.toContain("\n");
  });

  it("takes names Kubernetes takes", () => {
    expect(() => manifest("w1.prod-sa", "a".repeat(63))).not.toThrow();
  });
});
