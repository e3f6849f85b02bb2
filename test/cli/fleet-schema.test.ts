import * as fs from 'fs';
import { FLEET_SCHEMA_FILE, generateFleetSchema } from '../../scripts/fleet-schema';

describe('schemas/fleet.schema.json', () => {
  test('is the schema generated from the fleet file type (run `npx projen schema` after changing the props)', () => {
    expect(fs.readFileSync(FLEET_SCHEMA_FILE, 'utf8')).toBe(generateFleetSchema());
  });
});
