// Doctor's checks that fetch the issuer's documents from its host: the ones that can only fail
// where that host is out of reach (a real S3 host or a CloudFront domain, in tests that run
// offline), which tests of `up` against such an issuer set apart from the others.

/**
 * Matches the title of each check that fetches from the issuer's host, as doctor prints it
 * after `FAIL  `.
 *
 * @example
 * for (const line of failedLines) expect(line.slice(6)).toMatch(CHECKS_THAT_FETCH_THE_ISSUER);
 */
export const CHECKS_THAT_FETCH_THE_ISSUER =
  /^(Discovery document|JWKS|A token minted as kube-apiserver|The cluster's current signing key is published|CloudFront distribution)/;
