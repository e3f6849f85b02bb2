/**
 * Fleet files the CLI tests start from, written once: a test changes them
 * with `.replace(...)` or appends top-level fields, so the line numbers its
 * error messages name follow from this layout.
 */

/** A fleet file's `clusters:` list: the CSC and CPC "1", each with its gateway hostname; `cpcLines` are added to the CPC's entry. */
export function clustersYaml(cpcLines = ''): string {
  return `clusters:
  - type: csc
    gateway: { hostnames: [csc.example.com] }
  - type: cpc
    id: "1"
    gateway: { hostnames: [cpc-1.example.com] }
${cpcLines}`;
}

/**
 * The smallest fleet synth accepts: existing Secrets, a self-signed CA per
 * cluster, the CPC trusting a ConfigMap copy of the CSC's CA. The CPC's id is
 * on line 8; `clusters:` comes last, so appended list entries join it.
 */
export const MINIMAL_FLEET = `delivery: { type: existing }
certificates: { selfSigned: true }
cscTrust: { configMapName: csc-gateway-ca }
${clustersYaml()}`;
