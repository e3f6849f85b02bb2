import { Testing } from 'cdk8s';
import { HostPrerequisites } from '../../src/charts/host-prerequisites';
import { validateManifests } from '../util/schema';

describe('HostPrerequisites', () => {
  test('a privileged init container sets both inotify limits on every node', () => {
    const chart = Testing.chart();
    new HostPrerequisites(chart, 'Host', { namespace: 'dsx-system' });
    const objects = Testing.synth(chart);
    expect(validateManifests(objects)).toBe(1);
    const [ds] = objects;
    expect(ds.kind).toBe('DaemonSet');
    expect(ds.metadata).toMatchObject({ name: 'event-bus-host-prerequisites', namespace: 'dsx-system' });
    const pod = ds.spec.template.spec;
    expect(pod.initContainers[0].command).toEqual(['sysctl', '-w', 'fs.inotify.max_user_instances=8192', 'fs.inotify.max_user_watches=524288']);
    expect(pod.initContainers[0].securityContext).toMatchObject({ privileged: true, runAsUser: 0 });
    expect(pod.containers[0].securityContext).toMatchObject({ privileged: false, runAsNonRoot: true, readOnlyRootFilesystem: true });
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(objects).toMatchSnapshot();
  });

  test('limits and images are configurable', () => {
    const chart = Testing.chart();
    new HostPrerequisites(chart, 'Host', { maxUserInstances: 16384, maxUserWatches: 1048576, sysctlImage: 'registry.example.com/busybox:1.36', name: 'inotify' });
    const [ds] = Testing.synth(chart);
    expect(ds.metadata.name).toBe('inotify');
    expect(ds.spec.template.spec.initContainers[0]).toMatchObject({
      image: 'registry.example.com/busybox:1.36',
      command: ['sysctl', '-w', 'fs.inotify.max_user_instances=16384', 'fs.inotify.max_user_watches=1048576'],
    });
  });

  test.each([0, -1, 1.5, 2 ** 31])('fails when maxUserWatches is %p', (value) => {
    expect(() => new HostPrerequisites(Testing.chart(), 'Host', { maxUserWatches: value }))
      .toThrow(/Host: maxUserWatches .* is not a valid sysctl value\. Allowed: an integer from 1 to 2147483647/);
  });
});
