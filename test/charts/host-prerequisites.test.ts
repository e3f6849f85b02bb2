import { execFileSync } from 'child_process';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { HostPrerequisites } from '../../src/charts/host-prerequisites';
import { validateManifests } from '../util/schema';

describe('HostPrerequisites', () => {
  test('a privileged init container sets both inotify limits on every node', () => {
    const chart = Testing.chart();
    new HostPrerequisites(chart, 'Host', { metadata: { namespace: 'dsx-system' } });
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
    new HostPrerequisites(chart, 'Host', { maxUserInstances: 16384, maxUserWatches: 1048576, sysctlImage: 'registry.example.com/busybox:1.36', metadata: { name: 'inotify' } });
    const [ds] = Testing.synth(chart);
    expect(ds.metadata.name).toBe('inotify');
    expect(ds.spec.template.spec.initContainers[0]).toMatchObject({
      image: 'registry.example.com/busybox:1.36',
      command: ['sysctl', '-w', 'fs.inotify.max_user_instances=16384', 'fs.inotify.max_user_watches=1048576'],
    });
  });

  test('the selector is fixed and readable: the same for any construct path, labels settable', () => {
    const selectors = ['a', 'b'].map((id) => {
      const chart = Testing.chart();
      const parent = new Construct(chart, `Parent-${id}`);
      new HostPrerequisites(parent, `Host-${id}`, { metadata: { namespace: 'dsx', labels: { team: 'platform' } } });
      const [ds] = Testing.synth(chart);
      expect(ds.metadata.labels).toMatchObject({
        'team': 'platform',
        'app.kubernetes.io/part-of': 'dsx-event-bus',
        'app.kubernetes.io/managed-by': 'cdk8s-dsx-event-bus',
        'app.kubernetes.io/component': 'host-prerequisites',
      });
      expect(ds.spec.template.metadata.labels).toMatchObject(ds.spec.selector.matchLabels);
      return ds.spec.selector;
    });
    expect(selectors[0]).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'dsx-event-bus-host-prerequisites', 'app.kubernetes.io/instance': 'event-bus-host-prerequisites' } });
    expect(selectors[1]).toEqual(selectors[0]);
  });

  test('needs no cdk8s-plus: loading and synthesizing it never requires a cdk8s-plus module', () => {
    const script = `
      const { Testing } = require('cdk8s');
      const { HostPrerequisites } = require(${JSON.stringify(path.join(__dirname, '../../src/charts/host-prerequisites'))});
      const chart = Testing.chart();
      new HostPrerequisites(chart, 'Host');
      Testing.synth(chart);
      const loaded = Object.keys(require.cache).filter((f) => /cdk8s-plus/.test(f));
      process.stdout.write(JSON.stringify(loaded));
    `;
    const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([]);
  });

  test.each([0, -1, 1.5, 2 ** 31])('fails when maxUserWatches is %p', (value) => {
    expect(() => new HostPrerequisites(Testing.chart(), 'Host', { maxUserWatches: value }))
      .toThrow(/Host: maxUserWatches .* is not a valid sysctl value\. Allowed: an integer from 1 to 2147483647/);
  });
});
