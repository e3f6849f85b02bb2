/**
 * mTLS hostname agreement (module-internal): the server certificate SANs, the
 * TLSRoute hostnames and the host of each client broker URL must name the
 * same host, or the connection fails: a missing SAN fails the client's
 * hostname check, a TLSRoute hostname that does not match the SNI makes the
 * gateway reset the connection without a word.
 */
import { parseClientUrl } from '../endpoint';
import { EventBusError, formatProblem, ProblemDescription, quote } from '../errors';
import { canonicalIp, dnsNameCovers, isIpLiteral } from '../k8s/names';

export interface AgreementInput {
  readonly where: string | undefined;
  readonly certificatePath: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly routeHostnames: readonly string[];
  readonly clientUrls: readonly string[];
  readonly listenerPort: number;
  /**
   * How the caller's API names the lists a fix changes; by default the
   * route's and the certificate's own fields. A chart that makes both from
   * one prop names that prop.
   */
  readonly names?: AgreementFieldNames;
}

/** The fields a hostname-agreement fix names, in the caller's terms. */
export interface AgreementFieldNames {
  /** Where a DNS name for the certificate's SANs goes. */
  readonly certificateDnsNames: string;
  /** Where an IP address for the certificate's SANs goes. */
  readonly certificateIpAddresses: string;
  /** The SNI hostnames of the route. */
  readonly routeHostnames: string;
  /** The client broker URLs. */
  readonly clientUrls: string;
}

const ROUTE_FIELDS: AgreementFieldNames = {
  certificateDnsNames: 'the certificate\'s dnsNames',
  certificateIpAddresses: 'the certificate\'s ipAddresses',
  routeHostnames: 'the route\'s hostnames',
  clientUrls: 'clientUrls',
};

const list = (xs: readonly string[]) => (xs.length ? `[${xs.map((x) => quote(x)).join(', ')}]` : '[] (none)');

/** Every disagreement, as complete error messages (empty when all agree). */
export function hostnameAgreementErrors(input: AgreementInput): string[] {
  // The route's fields are named in each fix; the message is prefixed with the route's path.
  return hostnameAgreementProblems(input).map(({ field: _field, ...p }) => formatProblem(p));
}

/** Every disagreement (empty when all agree), each naming the field its fix changes as `field`. */
export function hostnameAgreementProblems(input: AgreementInput): Array<ProblemDescription & { readonly field: string }> {
  const errors: Array<ProblemDescription & { readonly field: string }> = [];
  const names = input.names ?? ROUTE_FIELDS;
  for (const url of input.clientUrls) {
    let host: string;
    let port: number | undefined;
    try {
      ({ host, port } = parseClientUrl(url, input.where));
    } catch (e) {
      const d = (e as EventBusError).description;
      errors.push({ ...(d ?? { problem: (e as Error).message }), where: input.where, field: names.clientUrls });
      continue;
    }
    const values = `client URL host ${quote(host)} (from ${quote(url)}), server certificate SANs ${list([...input.dnsNames, ...input.ipAddresses])} (${input.certificatePath}), TLSRoute hostnames ${list(input.routeHostnames)}`;
    const fail = (why: string, allowed: string, fix: string, field: string) => errors.push({
      where: input.where,
      field,
      problem: `mTLS hostname agreement fails: ${values}. ${why}`,
      allowed,
      fix,
    });
    if (port !== undefined && port !== input.listenerPort) {
      fail(`The URL's port ${port} is not the listener's port ${input.listenerPort}`, `port ${input.listenerPort}`, `use port ${input.listenerPort} in the URL in ${names.clientUrls}`, names.clientUrls);
    }
    if (isIpLiteral(host)) {
      const ip = canonicalIp(host);
      if (!input.ipAddresses.some((a) => canonicalIp(a) === ip)) {
        fail(`The certificate has no IP SAN ${quote(host)}, so clients connecting by IP fail certificate verification`, 'the URL host listed in the certificate\'s ipAddresses', `add ${quote(host)} to ${names.certificateIpAddresses}`, names.certificateIpAddresses);
      }
      if (input.routeHostnames.length) {
        fail('A client connecting to an IP address sends no SNI, and a TLSRoute with hostnames only matches connections whose SNI matches one of them, so the gateway resets the connection', 'no TLSRoute hostnames when clients connect by IP (route API v1alpha2), or a DNS name in the URL', `use a DNS name in ${names.clientUrls} and list it in ${names.routeHostnames}, or remove the hostnames from ${names.routeHostnames}`, names.routeHostnames);
      }
    } else {
      if (!input.dnsNames.some((n) => dnsNameCovers(n, host))) {
        fail(`No certificate SAN covers ${quote(host)}, so clients fail server name verification`, 'the URL host listed (or covered by a *. wildcard) in the certificate\'s dnsNames', `add ${quote(host)} to ${names.certificateDnsNames}`, names.certificateDnsNames);
      }
      if (input.routeHostnames.length && !input.routeHostnames.some((n) => dnsNameCovers(n, host))) {
        fail(`No TLSRoute hostname matches the SNI ${quote(host)}, so the gateway resets the connection`, 'the URL host listed (or covered by a *. wildcard) in the TLSRoute hostnames', `add ${quote(host)} to ${names.routeHostnames}`, names.routeHostnames);
      }
    }
  }
  return errors;
}
