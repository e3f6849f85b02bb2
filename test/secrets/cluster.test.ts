import { ClusterRole, EventBusCluster } from '../../src';

describe('EventBusCluster', () => {
  test('the CSC with its CPC ids', () => {
    const c = EventBusCluster.csc({ cpcIds: ['1', 'b2'] });
    expect(c.role).toBe(ClusterRole.CSC);
    expect(c.cpcIds).toEqual(['1', 'b2']);
    expect(c.cpcId).toBeUndefined();
    expect(c.directory).toBe('csc');
    expect(c.displayName).toBe('CSC');
    expect(EventBusCluster.csc().cpcIds).toEqual([]);
  });

  test('a CPC with its id', () => {
    const c = EventBusCluster.cpc('7');
    expect([c.role, c.cpcId, c.directory, c.displayName, c.cpcIds]).toEqual([ClusterRole.CPC, '7', 'cpc-7', 'CPC-7', []]);
  });

  test('the id list cannot be changed from outside', () => {
    const ids = ['1'];
    const c = EventBusCluster.csc({ cpcIds: ids });
    ids.push('2');
    c.cpcIds.push('3');
    expect(c.cpcIds).toEqual(['1']);
  });

  test.each(['', 'A', 'cpc-1', '1_2'])('fails when a CSC cpcId is %j', (id) => {
    expect(() => EventBusCluster.csc({ cpcIds: ['1', id] })).toThrow(/^EventBusCluster\.csc: cpcIds: CPC id ".*" is invalid\. Allowed: lower-case letters and digits only/);
  });

  test('fails when a CPC id is listed twice', () => {
    expect(() => EventBusCluster.csc({ cpcIds: ['1', '2', '1'] })).toThrow(/EventBusCluster\.csc: cpcIds: CPC id "1" is listed twice\. Fix: list each CPC id once/);
  });

  test('fails when the CPC id is invalid', () => {
    expect(() => EventBusCluster.cpc('CPC1')).toThrow(/^EventBusCluster\.cpc: CPC id "CPC1" is invalid.*Fix: use e\.g\. "cpc1"/);
    expect(() => EventBusCluster.cpc(1 as any)).toThrow(/EventBusCluster\.cpc: CPC id 1 is a number, not a string\. Allowed: a string of lower-case letters and digits.*Fix: write the id as a string, e\.g\. "1"/);
  });

  test('a CSC gains a CPC as a new value; the old one is unchanged', () => {
    const csc = EventBusCluster.csc({ cpcIds: ['1'] });
    const more = csc._withCpc(EventBusCluster.cpc('2'), 'x');
    expect(more.cpcIds).toEqual(['1', '2']);
    expect(csc.cpcIds).toEqual(['1']);
    expect(() => more._withCpc(EventBusCluster.cpc('1'), 'addCpc')).toThrow(/^addCpc: CPC id "1" is listed twice/);
    expect(() => csc._withCpc(csc, 'addCpc')).toThrow(/^addCpc: CSC is not a CPC\. Fix: pass EventBusCluster\.cpc\(id\)/);
    expect(() => EventBusCluster.cpc('1')._withCpc(EventBusCluster.cpc('2'), 'addCpc')).toThrow(/^addCpc: CPC-1 is not the CSC/);
  });

  test('a cluster folder names a cluster; a CPC id entering there is checked', () => {
    expect(EventBusCluster._ofDirectory('csc', 'x')?.displayName).toBe('CSC');
    expect(EventBusCluster._ofDirectory('cpc-7', 'x')?.cpcId).toBe('7');
    expect(EventBusCluster._ofDirectory('other', 'x')).toBeUndefined();
    expect(() => EventBusCluster._ofDirectory('cpc-A', 'certificates')).toThrow(/^certificates: CPC id "A" is invalid/);
  });
});
