import { formatUrl, parseClientUrl, parseLeafEndpoint, splitUrl } from '../src/endpoint';

describe('one URL parser for leafnode endpoints and client URLs', () => {
  test.each([
    ['tls://csc.example.com:7422', { scheme: 'tls', host: 'csc.example.com', hostText: 'csc.example.com', port: 7422, path: '' }],
    ['NATS://CSC.Example.com', { scheme: 'nats', host: 'csc.example.com', hostText: 'csc.example.com', port: undefined, path: '' }],
    ['tls://[2001:db8::1]:7422', { scheme: 'tls', host: '2001:db8::1', hostText: '[2001:db8::1]', port: 7422, path: '' }],
    ['mqtts://mqtt.example.com:8883/x', { scheme: 'mqtts', host: 'mqtt.example.com', hostText: 'mqtt.example.com', port: 8883, path: '/x' }],
  ])('splits %s', (url, parts) => {
    expect(splitUrl(url)).toEqual(parts);
  });

  test.each(['', 'csc.example.com', 'tls://', 'tls://a:0', 'tls://a:65536', 'tls://user@a', 'tls://a b', 'tls://2001:db8::1', 42])('refuses %p', (url) => {
    expect(splitUrl(url)).toBeUndefined();
  });

  test('a leafnode endpoint: NATS schemes, no path; errors name the field', () => {
    expect(parseLeafEndpoint('wss://csc.example.com:443', 'w').scheme).toBe('wss');
    expect(() => parseLeafEndpoint('https://csc.example.com', 'fleet/cpc-1')).toThrow(/^fleet\/cpc-1: cscEndpoint "https:\/\/csc\.example\.com" is not a leafnode URL\. Allowed: scheme nats, tls, ws or wss/);
    expect(() => parseLeafEndpoint('tls://csc.example.com:7422/path', 'w')).toThrow(/is not a leafnode URL/);
    expect(() => parseLeafEndpoint('tls://ünï.example.com:7422', 'w')).toThrow(/is not a leafnode URL/);
    expect(() => parseLeafEndpoint(undefined, 'w')).toThrow(/cscEndpoint is missing/);
  });

  test('a client URL: any scheme with a host', () => {
    expect(parseClientUrl('ssl://172.18.200.1:8883', 'w')).toMatchObject({ host: '172.18.200.1', port: 8883 });
    expect(() => parseClientUrl('mqtt-mtls.example.com:8883', 'gw')).toThrow(/^gw: client URL "mqtt-mtls\.example\.com:8883" is not a URL with a host/);
  });

  test('formats an endpoint, bracketing IPv6', () => {
    expect(formatUrl('tls', 'fd00::1', 7422)).toBe('tls://[fd00::1]:7422');
    expect(formatUrl('nats', 'csc.example.com', 7422)).toBe('nats://csc.example.com:7422');
  });
});
