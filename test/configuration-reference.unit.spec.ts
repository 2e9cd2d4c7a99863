import { describe, expect, test } from '@jest/globals';
import { environmentSchema } from '@timeline/config';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CONFIGURATION_REFERENCE_FILE, renderConfigurationReference } from '../scripts/docs/configuration-reference';

describe('the configuration reference (docs/configuration.md)', () => {
  test('every variable of the schema says what it does (its describe() text)', () => {
    const undescribed = Object.entries(environmentSchema.shape)
      .filter(([, schema]) => !z.globalRegistry.get(schema)?.description)
      .map(([name]) => name);
    expect(undescribed).toEqual([]);
  });

  test('the committed file is what the schema renders; when it fails, run `npm run docs:config` and commit the file', () => {
    expect(readFileSync(CONFIGURATION_REFERENCE_FILE, 'utf8')).toBe(renderConfigurationReference());
  });
});
