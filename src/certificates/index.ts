export type { ITlsSecretSource } from './tls-secret';
export { TlsSecret } from './existing-tls-secret';
export { CertificateIssuer, IssuerKind, SelfSignedCaIssuer, VaultAuth, VaultIssuer } from './issuers';
export type { ICertificateIssuer, IssuerOptions, SelfSignedCaIssuerProps, VaultAppRoleAuthOptions, VaultIssuerProps, VaultKubernetesAuthOptions } from './issuers';
export { PrivateKeyAlgorithm } from './private-key';
export { CertificateUsage, MtlsServerCertificate, ServerCertificate } from './server-certificate';
export type { MtlsServerCertificateProps, ServerCertificateOptions, ServerCertificateProps } from './server-certificate';
export { LeafTrust, LeafTrustKind } from './leaf-trust';
export type { LeafTrustPemOptions } from './leaf-trust';
