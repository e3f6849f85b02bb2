import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fleetSchema } from '../../src/cli/fleet-file';
import { fleetFieldDeclarations, schemaFieldPaths } from '../util/fleet-declarations';

const SRC = path.join(__dirname, '..', '..', 'src');

describe('one fleet model: each field of the fleet file is declared once', () => {
  const declarations = fleetFieldDeclarations();
  const fields = schemaFieldPaths(fleetSchema() as Record<string, unknown>);

  test('every field of the schema is a declared member of FleetDoc, and every member a field of the schema', () => {
    expect(fields.length).toBeGreaterThan(100);
    expect(fields.filter((f) => !declarations.has(f))).toEqual([]);
    expect([...declarations.keys()].filter((f) => !fields.includes(f))).toEqual([]);
  });

  test('each field is declared in exactly one place (its props, or the file form of its type, or the file alone)', () => {
    const twice = fields.filter((f) => declarations.get(f)!.length !== 1).map((f) => `${f}: ${declarations.get(f)!.join(', ')}`);
    expect(twice).toEqual([]);
    // The props are the source: most fields are declared outside the file model.
    const inModel = fields.filter((f) => declarations.get(f)![0].startsWith('src/cli/fleet-doc.ts'));
    expect(inModel.length).toBeLessThan(fields.length / 4);
  });

  test('the count sees a field that a file model declares again beside the props it omits', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-model-'));
    const from = (p: string) => path.relative(dir, path.join(SRC, p)).split(path.sep).join('/');
    const model = path.join(dir, 'model.ts');
    fs.writeFileSync(model, [
      `import type { ClusterCertificateOptions } from '${from('charts/options')}';`,
      `import type { FleetCpcOptions } from '${from('charts/fleet')}';`,
      'export type FleetDoc = Omit<ClusterCertificateOptions, \'duration\' | \'issuer\'> & { readonly duration?: string; readonly cpc?: Pick<FleetCpcOptions, \'id\'> & { readonly id?: number } };',
    ].join('\n'));
    try {
      const counted = fleetFieldDeclarations(model);
      expect(counted.get('duration')).toEqual([expect.stringMatching(/model\.ts:3$/), 'src/charts/options.ts:' + lineOf('charts/options.ts', 'readonly duration?: Duration;')]);
      expect(counted.get('cpc.id')).toHaveLength(2);
      expect(counted.get('selfSigned')).toHaveLength(1);
      expect(counted.has('issuer')).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

function lineOf(file: string, text: string): number {
  return fs.readFileSync(path.join(SRC, file), 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
}
