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
    expect(() => EventBusCluster.cpc(1 as any)).toThrow(/EventBusCluster\.cpc: CPC id 1 is not a string/);
  });
});
