import { Duration } from 'cdk8s';
import { problem, quote } from '../errors';
import type { CertificateSpecPrivateKey } from '../imports/cm-certificates-cert-manager.io';
import { validateGoDurationBound } from '../k8s/names';

/** Private key algorithm and size of a cert-manager Certificate. */
export enum PrivateKeyAlgorithm {
  /** RSA, 2048 bits: what every TLS and MQTT client supports. */
  RSA_2048 = 'RSA_2048',
  /** RSA, 3072 bits. */
  RSA_3072 = 'RSA_3072',
  /** RSA, 4096 bits. */
  RSA_4096 = 'RSA_4096',
  /** ECDSA on P-256: small and fast; supported by current NATS, Envoy and MQTT clients. */
  ECDSA_P256 = 'ECDSA_P256',
  /** ECDSA on P-384. */
  ECDSA_P384 = 'ECDSA_P384',
  /** Ed25519: not supported by many TLS clients yet. */
  ED25519 = 'ED25519',
}

const KEYS: Record<PrivateKeyAlgorithm, { algorithm: string; size?: number }> = {
  RSA_2048: { algorithm: 'RSA', size: 2048 },
  RSA_3072: { algorithm: 'RSA', size: 3072 },
  RSA_4096: { algorithm: 'RSA', size: 4096 },
  ECDSA_P256: { algorithm: 'ECDSA', size: 256 },
  ECDSA_P384: { algorithm: 'ECDSA', size: 384 },
  ED25519: { algorithm: 'Ed25519' },
};

/** Throws unless `key` is a member of the enum (plain JavaScript can pass any string). */
export function validatePrivateKeyAlgorithm(key: PrivateKeyAlgorithm, where: string): void {
  if (!Object.prototype.hasOwnProperty.call(KEYS, key)) {
    throw problem({ where, problem: `privateKey ${quote(key)} is unknown`, allowed: Object.keys(KEYS).join(', '), fix: 'use e.g. PrivateKeyAlgorithm.ECDSA_P256' });
  }
}

/** Whether the key type uses RSA (key encipherment is then a meaningful usage). */
export function isRsa(key: PrivateKeyAlgorithm): boolean {
  return KEYS[key].algorithm === 'RSA';
}

/** The `spec.privateKey` block. */
export function certificatePrivateKey(key: PrivateKeyAlgorithm, rotationPolicy: 'Always' | 'Never'): CertificateSpecPrivateKey {
  const k = Object.prototype.hasOwnProperty.call(KEYS, key) ? KEYS[key] : undefined;
  if (!k) throw problem({ problem: `private key algorithm ${quote(key)} is unknown`, allowed: Object.keys(KEYS).join(', ') });
  return { algorithm: k.algorithm as any, size: k.size, rotationPolicy: rotationPolicy as any };
}

/** A Go duration string as cert-manager parses it (`2160h`, `1h30m`). */
export function goDuration(d: Duration): string {
  let s = Math.round(d.toSeconds({ integral: false }));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}

/** cert-manager's limits: duration >= 1h, renewBefore >= 5m and < duration. */
export function validateDurations(where: string, duration: Duration, renewBefore: Duration | undefined): void {
  const d = duration.toSeconds({ integral: false });
  validateGoDurationBound(d, where, 'duration');
  if (renewBefore !== undefined) validateGoDurationBound(renewBefore.toSeconds({ integral: false }), where, 'renewBefore');
  if (d < 3600) {
    throw problem({ where, field: 'duration', problem: `${goDuration(duration)} is shorter than cert-manager's minimum duration`, allowed: 'at least 1 hour', fix: 'use e.g. Duration.days(90)' });
  }
  if (renewBefore === undefined) return;
  const r = renewBefore.toSeconds({ integral: false });
  if (r < 300 || r >= d) {
    throw problem({
      where,
      field: 'renewBefore',
      problem: `${goDuration(renewBefore)} does not fit the duration ${goDuration(duration)}`,
      allowed: 'at least 5 minutes and less than the duration',
      fix: 'use e.g. a third of the duration (Duration.days(30) for Duration.days(90))',
    });
  }
}
