import { canonicalIp, dnsNameCovers, isIpLiteral } from '../../src/k8s/names';

// The host-name rules behind the SAN split and the hostname agreement check.
describe('host-name helpers', () => {
  test('recognise IPv4 and IPv6 literals, with or without brackets', () => {
    expect(['10.0.0.1', '::1', '[2001:db8::1]', '::ffff:10.0.0.1'].map(isIpLiteral)).toEqual([true, true, true, true]);
    expect(['mqtt.example.com', '10.0.0', '', '1.2.3.4.5'].map(isIpLiteral)).toEqual([false, false, false, false]);
  });

  test('canonicalise IPv6 spellings so they compare equal', () => {
    expect(canonicalIp('2001:db8:0:0::1')).toBe(canonicalIp('2001:DB8::0001'));
    expect(canonicalIp('[::1]')).toBe('0:0:0:0:0:0:0:1');
    expect(canonicalIp('::ffff:10.0.0.1')).toBe('0:0:0:0:0:ffff:a00:1');
    expect(canonicalIp('10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalIp('2001:db8::2')).not.toBe(canonicalIp('2001:db8::1'));
  });

  test('match wildcards on exactly one label, case-insensitively', () => {
    expect(dnsNameCovers('*.example.com', 'a.example.com')).toBe(true);
    expect(dnsNameCovers('*.example.com', 'A.Example.com.')).toBe(true);
    expect(dnsNameCovers('*.example.com', 'example.com')).toBe(false);
    expect(dnsNameCovers('*.example.com', 'a.b.example.com')).toBe(false);
    expect(dnsNameCovers('a.example.com', 'a.example.com')).toBe(true);
    expect(dnsNameCovers('a.example.com', 'b.example.com')).toBe(false);
  });
});
