const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Whether Kubernetes takes `value` as a DNS-1123 label, the rule for namespaces and service
 * names: at most 63 lower-case letters, digits and `-`, starting and ending with a letter or
 * digit. Each package refuses a bad name with its own error; this is the one rule they share.
 *
 * @example
 * isDnsLabel("eksa-system"); // true
 * isDnsLabel("Payments"); // false
 */
export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

/**
 * Whether Kubernetes takes `value` as a DNS-1123 subdomain, the rule for most object names
 * (secrets, service accounts) and annotation prefixes: dot-separated labels, at most 253
 * characters.
 *
 * @example
 * isDnsSubdomain("prod-sa"); // true
 * isDnsSubdomain("eks.amazonaws.com"); // true
 * isDnsSubdomain("prod_sa"); // false
 */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && DNS_SUBDOMAIN.test(value);
}
