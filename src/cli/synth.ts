import * as path from 'path';
import { App } from 'cdk8s';
import { ensureFleetCa } from './certs';
import { CliIo, Command, parseCommandLine, UsageError } from './command';
import { fleetCaLocation, fleetPropsFromDoc, loadFleetDoc } from './fleet-file';
import { EventBusFleet, VALUES_FILE } from '../charts/fleet';

const USAGE = `Usage: dsx-event-bus synth -c FILE [--secrets DIR] [--generate-missing] [-o DIR]

Synthesizes a fleet description (YAML or JSON; JSON Schema: schemas/fleet.schema.json)
into one folder per cluster:

  DIR/<cluster>/manifests/<Kind>.<namespace>.<name>.k8s.yaml   Secrets, Certificates, Gateway, ...
  DIR/<cluster>/${VALUES_FILE}                         global.eventBus values for the Helm chart

<cluster> is csc or cpc-<id>. Folders of clusters no longer in the file are removed.

Options:
  -c, --config FILE       Fleet description (required)
  -o, --output DIR        Output directory (default: dist)
      --secrets DIR       Key store directory (the layout of 'dsx-event-bus nkeys');
                          overrides keys.directory in the file
      --generate-missing  Create keys missing from the key store, and the fleet CA of
                          certificates.ca when it is missing (nothing existing is ever
                          replaced); without it a missing key or CA is an error
  -h, --help              Show this help message

Examples:
  dsx-event-bus synth -c examples/fleet.yaml
  dsx-event-bus synth -c fleet.yaml --secrets deploy/secrets -o gitops/event-bus`;

export const command: Command = {
  name: 'synth',
  summary: 'Synthesize a fleet description into manifests and Helm values per cluster',
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandLine(args, {
      'config': { type: 'string', short: 'c' },
      'output': { type: 'string', short: 'o' },
      'secrets': { type: 'string' },
      'generate-missing': { type: 'boolean' },
    });
    if (positionals.length) throw new UsageError(`Unexpected argument: ${positionals[0]}`, true);
    const config = values.config as string | undefined;
    if (!config) throw new UsageError('-c/--config FILE is required', true);
    const outdir = (values.output as string | undefined) ?? 'dist';
    const overrides = {
      secretsDirectory: values.secrets as string | undefined,
      generateMissing: values['generate-missing'] ? true : undefined,
    };
    const doc = loadFleetDoc(config);
    const baseDir = path.dirname(path.resolve(config));
    // certificates.ca: {}: the fleet CA is made once, like missing keys, when generation is asked for.
    const ca = fleetCaLocation(doc, baseDir, config, overrides);
    if (ca?.generateMissing) await ensureFleetCa(ca.root, { generate: true, io });
    const props = fleetPropsFromDoc(doc, baseDir, config, overrides);
    const app = new App({ outdir });
    const fleet = new EventBusFleet(app, 'fleet', props);
    const result = fleet.synth(outdir);
    result.clusterDirectories.forEach((dir, i) => {
      io.out(`${path.basename(dir).padEnd(10)} ${String(result.objectsPerCluster[i]).padStart(4)} objects -> ${dir}\n`);
    });
    io.out(`Synthesized ${fleet.charts.length} clusters: ${result.objects} objects, ${result.files} files under ${outdir}\n`);
    return 0;
  },
};
