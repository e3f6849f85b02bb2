/**
 * mTLS hostname agreement (module-internal): the server certificate SANs, the
 * TLSRoute hostnames and the host of each client broker URL must name the
 * same host, or the connection fails: a missing SAN fails the client's
 * hostname check, a TLSRoute hostname that does not match the SNI makes the
 * gateway reset the connection without a word.
 */
import { parseClientUrl } from '../endpoint';
import { formatProblem, quote } from '../errors';
import { canonicalIp, dnsNameCovers, isIpLiteral } from '../k8s/names';

export interface AgreementInput {
  readonly where: string | undefined;
  readonly certificatePath: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly routeHostnames: readonly string[];
  readonly clientUrls: readonly string[];
  readonly listenerPort: number;
}

const list = (xs: readonly string[]) => (xs.length ? `[${xs.map((x) => quote(x)).join(', ')}]` : '[] (none)');

/** Every disagreement, as complete error messages (empty when all agree). */
export function hostnameAgreementErrors(input: AgreementInput): string[] {
  const errors: string[] = [];
  for (const url of input.clientUrls) {
    let host: string;
    let port: number | undefined;
    try {
      ({ host, port } = parseClientUrl(url, input.where));
    } catch (e) {
      errors.push((e as Error).message);
      continue;
    }
    const values = `client URL host ${quote(host)} (from ${quote(url)}), server certificate SANs ${list([...input.dnsNames, ...input.ipAddresses])} (${input.certificatePath}), TLSRoute hostnames ${list(input.routeHostnames)}`;
    const fail = (why: string, allowed: string, fix: string) => errors.push(formatProblem({
      where: input.where,
      problem: `mTLS hostname agreement fails: ${values}. ${why}`,
      allowed,
      fix,
    }));
    if (port !== undefined && port !== input.listenerPort) {
      fail(`The URL's port ${port} is not the listener's port ${input.listenerPort}`, `port ${input.listenerPort}`, `use port ${input.listenerPort} in the client URL, or change the listener port`);
    }
    if (isIpLiteral(host)) {
      const ip = canonicalIp(host);
      if (!input.ipAddresses.some((a) => canonicalIp(a) === ip)) {
        fail(`The certificate has no IP SAN ${quote(host)}, so clients connecting by IP fail certificate verification`, 'the URL host listed in the certificate\'s ipAddresses', `add ${quote(host)} to the certificate's ipAddresses (externalHostnames of the MtlsServerCertificate)`);
      }
      if (input.routeHostnames.length) {
        fail('A client connecting to an IP address sends no SNI, and a TLSRoute with hostnames only matches connections whose SNI matches one of them, so the gateway resets the connection', 'no TLSRoute hostnames when clients connect by IP (route API v1alpha2), or a DNS name in the URL', 'connect by a DNS name listed in the TLSRoute hostnames and the certificate, or remove the TLSRoute hostnames');
      }
    } else {
      if (!input.dnsNames.some((n) => dnsNameCovers(n, host))) {
        fail(`No certificate SAN covers ${quote(host)}, so clients fail server name verification`, 'the URL host listed (or covered by a *. wildcard) in the certificate\'s dnsNames', `add ${quote(host)} to the certificate's dnsNames (externalHostnames of the MtlsServerCertificate)`);
      }
      if (input.routeHostnames.length && !input.routeHostnames.some((n) => dnsNameCovers(n, host))) {
        fail(`No TLSRoute hostname matches the SNI ${quote(host)}, so the gateway resets the connection`, 'the URL host listed (or covered by a *. wildcard) in the TLSRoute hostnames', `add ${quote(host)} to the TLSRoute hostnames`);
      }
    }
  }
  return errors;
}
