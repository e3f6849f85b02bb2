import * as fs from 'fs';
import * as path from 'path';
import { ensureClusterIntermediates, ensureFleetCa } from './certs';
import { CliIo, Command, parseCommandLine, UsageError } from './command';
import { inFileTerms } from './file-terms';
import { fleetCaLocation, fleetClusters, fleetPropsFromDoc, generationRequested, loadFleetDoc } from './fleet-file';
import { warnIfNotGitIgnored } from './git-ignore';
import { EventBusApp, renderOutput, VALUES_FILE } from '../charts/app';
import { EventBusFleet, fleetIntermediateNames } from '../charts/fleet';
import { EventBusError } from '../errors';
import { OutputInterrupted, OutputResult, writeOutput } from '../files/output-tree';
import { DirectoryKeyStore } from '../keys/directory-store';

/** The construct id of the fleet synth builds: the place its errors name. */
const FLEET_ID = 'fleet';

const USAGE = `Usage: dsx-event-bus synth -c FILE [--secrets DIR] [--generate-missing] [-o DIR]

Synthesizes a fleet description (YAML or JSON; JSON Schema: schemas/fleet.schema.json)
into one folder per cluster:

  DIR/<cluster>/manifests/<Kind>.<namespace>.<name>.k8s.yaml   Secrets, Certificates, Gateway, ...
  DIR/<cluster>/${VALUES_FILE}                         global.eventBus values for the Helm chart

<cluster> is csc or cpc-<id>. The output is replaced all at once (built in a staging
folder, then swapped in); DIR/.dsx-event-bus-output.json records the files synth
wrote, and only those are ever removed (folders of clusters no longer in the file
included): files of your own stay, and each removal is listed on stderr. DIR must
be empty or an earlier output of synth. A run killed half-way is completed or
discarded by the next one. Two runs on one DIR wait for each other.

Options:
  -c, --config FILE       Fleet description (required)
  -o, --output DIR        Output directory (default: dist)
      --secrets DIR       Key store directory (the layout of 'dsx-event-bus nkeys');
                          overrides keys.directory in the file
      --generate-missing  Create keys missing from the key store, and the fleet CA of
                          certificates.ca when it is missing (nothing existing is ever
                          replaced); without it a missing key or CA is an error

With certificates.ca in the key store (ca: {} or ca: { directory }), the fleet
CA's key never enters a cluster: each cluster's CA issuer signs with its own
intermediate CA, name-constrained to that cluster's names, which synth issues
once beside the root (<ca>/clusters/<cluster>.pem, mode 600) and reuses until
the names change or it nears its end.
  -h, --help              Show this help message

Examples:
  dsx-event-bus init && dsx-event-bus synth -c fleet.yaml
  dsx-event-bus synth -c fleet.yaml --secrets deploy/secrets -o gitops/event-bus

A relative keys.directory is relative to the fleet file, not to the current folder.`;

export const command: Command = {
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
    // The clusters and their ids are checked first, where the file enters:
    // a wrong one creates nothing (no fleet CA, no intermediate, no key).
    const clusters = fleetClusters(doc, config);
    const baseDir = path.dirname(path.resolve(config));
    // Whether this run creates the key store (keys, or the fleet CA, with generation on): then say where, and why there.
    const storeDir = overrides.secretsDirectory ?? (doc.keys?.directory === undefined ? undefined : path.resolve(baseDir, doc.keys.directory));
    const storeIsNew = storeDir !== undefined && !fs.existsSync(storeDir);
    // certificates.ca: {}: the fleet CA is made once, like missing keys, when generation is asked for.
    const ca = fleetCaLocation(doc, baseDir, config, overrides);
    if (ca?.generateMissing) await ensureFleetCa(ca.root, { generate: true, io });
    const caDir = ca && path.join(ca.root, 'ca');
    const withRootKey = caDir !== undefined && fs.existsSync(path.join(caDir, 'ca.key'));
    // First pass without the root's key: only the clusters' names are needed from it.
    let props = fleetPropsFromDoc(doc, baseDir, config, withRootKey ? { ...overrides, intermediates: new Map() } : overrides, clusters);
    if (ca && withRootKey) {
      // The root's key stays in the key store: each cluster gets its own
      // name-constrained intermediate, issued once beside the root and reused.
      const root = await ensureFleetCa(ca.root, { generate: false });
      const intermediates = await ensureClusterIntermediates(caDir, root, fleetIntermediateNames(props, clusters), io);
      props = fleetPropsFromDoc(doc, baseDir, config, { ...overrides, intermediates }, clusters);
    }
    // Ctrl-C: stop before the swap with the earlier output intact (the
    // handler runs between steps; rendering itself is not interruptible).
    let interrupted = false;
    const onSigint = () => {
      interrupted = true;
    };
    process.on('SIGINT', onSigint);
    try {
      // The output layer of EventBusApp.synth(), written with Ctrl-C handling.
      // The fleet is built from the file alone: nothing changes its charts afterwards.
      const app = new EventBusApp({ outdir, renderOnlyChanged: true });
      let fleet: EventBusFleet;
      let out: ReturnType<typeof renderOutput>;
      try {
        fleet = new EventBusFleet(app, FLEET_ID, props);
        // Key generation is its own step, after the fleet has checked its
        // props and before synthesis, which only reads the store.
        if (props.keys instanceof DirectoryKeyStore && generationRequested(doc, overrides)) props.keys.generateMissing(fleet.keyStoreRequest);
        out = renderOutput(app, outdir);
      } catch (e) {
        // The fleet names its props' paths; the user wrote the file's.
        throw e instanceof EventBusError ? inFileTerms(e, { fleetPath: FLEET_ID, file: config, doc }) : e;
      }
      let written: OutputResult;
      try {
        written = await writeOutput(outdir, out.clusters, {
          flag: '-o/--output',
          interrupted: () => interrupted,
          onWait: (holder) => io.err(`waiting for another run writing ${outdir} (${holder})\n`),
          onEdited: (line) => io.err(`${line}\n`),
        });
      } catch (e) {
        if (e instanceof OutputInterrupted) {
          io.err(`ERROR: ${e.message}\n`);
          return 130;
        }
        throw e;
      }
      const result = out.result(written);
      if (storeIsNew && fs.existsSync(storeDir)) {
        const why = overrides.secretsDirectory === undefined
          ? `keys.directory ${JSON.stringify(doc.keys!.directory)} is relative to the fleet file ${config}`
          : '--secrets';
        io.out(`created the key store ${storeDir} (${why})\n`);
        warnIfNotGitIgnored(storeDir, io);
      }
      for (const line of result.notices) io.err(`${line}\n`);
      result.clusterDirectories.forEach((dir, i) => {
        io.out(`${path.basename(dir).padEnd(10)} ${String(result.objectsPerCluster[i]).padStart(4)} objects -> ${dir}\n`);
      });
      if (result.gitopsDirectory) io.out(`${'gitops'.padEnd(10)} wiring       -> ${result.gitopsDirectory}\n`);
      io.out(`Synthesized ${fleet.charts.length} clusters: ${result.objects} objects, ${result.files} files under ${outdir}${result.changed ? '' : ' (unchanged: nothing written)'}\n`);
      if (interrupted) {
        io.err(`ERROR: interrupted after the new output was complete in ${outdir}\n`);
        return 130;
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
    return 0;
  },
};
