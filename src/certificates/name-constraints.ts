/**
 * Reading an X.509 name-constrained intermediate CA: the names it permits and
 * until when. The charts read the fleet's intermediates with it (a
 * certificate outside a cluster's constraints is refused at synth time);
 * making certificates is the CLI's (src/cli/evaluation.ts).
 */
import { X509Certificate } from 'crypto';
import { canonicalIp } from '../k8s/names';

/**
 * The names one cluster's intermediate CA may sign for: its gateway and mTLS
 * host names (each permits itself and its subdomains) and its IP addresses
 * (each a single address).
 */
export interface IntermediateNames {
  /** Cluster folder name: `csc` or `cpc-<id>`. */
  readonly cluster: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** The DNS constraint of a SAN: a wildcard's parent (`*.a.b` -> `a.b`); lower case. */
function dnsConstraint(name: string): string {
  return name.replace(/^\*\./, '').toLowerCase();
}

/** Sorted, unique constraint names: what an intermediate permits, compared as sets. */
export function constraintNames(names: IntermediateNames): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = [...new Set(names.dnsNames.map(dnsConstraint))].sort();
  const ipAddresses = [...new Set(names.ipAddresses.map((ip) => canonicalIp(ip.replace(/^\[|\]$/g, ''))))].sort();
  return { dnsNames, ipAddresses };
}

/** OID of the X.509 name constraints extension (id-ce-nameConstraints). */
export const NAME_CONSTRAINTS_OID = '2.5.29.30';
/** DER of the OID 2.5.29.30 (id-ce-nameConstraints). */
const NAME_CONSTRAINTS_OID_DER = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x1e]);

/**
 * The extnValue octets of the name constraints extension in a certificate's
 * DER: after its OID, an optional `critical` BOOLEAN, then the OCTET STRING.
 * Undefined when the bytes are not laid out so (the caller then parses the
 * whole certificate).
 */
function nameConstraintsValue(der: Buffer): Buffer | undefined {
  let i = der.indexOf(NAME_CONSTRAINTS_OID_DER);
  if (i < 0) return undefined;
  i += NAME_CONSTRAINTS_OID_DER.length;
  if (der[i] === 0x01 && der[i + 1] === 0x01) i += 3; // critical BOOLEAN
  if (der[i] !== 0x04) return undefined;
  let len = der[i + 1];
  i += 2;
  if (len & 0x80) { // eslint-disable-line no-bitwise
    const n = len & 0x7f; // eslint-disable-line no-bitwise
    if (n < 1 || n > 2) return undefined;
    len = n === 1 ? der[i] : der.readUInt16BE(i);
    i += n;
  }
  return i + len <= der.length ? der.subarray(i, i + len) : undefined;
}

/** What an existing intermediate permits, and until when; undefined when it is not a name-constrained CA. */
export function describeIntermediate(pem: string): { dnsNames: string[]; ipAddresses: string[]; notAfter: Date; issuer: string } | undefined {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const asn = require('@peculiar/asn1-x509') as typeof import('@peculiar/asn1-x509');
  const { AsnConvert } = require('@peculiar/asn1-schema') as typeof import('@peculiar/asn1-schema');
  /* eslint-enable @typescript-eslint/no-require-imports */
  // Node parses the certificate; asn1-x509 parses only the name constraints extension's value (a
  // schema-driven parse of the whole certificate costs about 15 ms, which a fleet of 1,000 would feel).
  const cert = new X509Certificate(pem);
  const value = nameConstraintsValue(cert.raw) ?? (() => {
    const ext = (AsnConvert.parse(cert.raw, asn.Certificate).tbsCertificate.extensions ?? []).find((e) => e.extnID === NAME_CONSTRAINTS_OID);
    return ext && Buffer.from(ext.extnValue.buffer);
  })();
  if (!value) return undefined;
  const nc = AsnConvert.parse(value, asn.NameConstraints);
  const permitted = [...(nc.permittedSubtrees ?? [])].map((s) => s.base);
  const dnsNames = permitted.filter((g) => g.dNSName !== undefined && g.dNSName !== 'invalid').map((g) => g.dNSName!);
  const ipAddresses = permitted.filter((g) => g.iPAddress !== undefined).map((g) => g.iPAddress!.replace(/\/\d+$/, ''));
  return { ...constraintNames({ cluster: '', dnsNames, ipAddresses }), notAfter: new Date(cert.validTo), issuer: cert.issuer };
}
