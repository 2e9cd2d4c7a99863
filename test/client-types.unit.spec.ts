import { expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

// In a process of its own: openapi-typescript requires an ES module, which Node loads and Jest's loader does not.
test('the typed client is generated from the OpenAPI document the code builds (npm run client:types)', () => {
  const check = spawnSync(process.execPath, ['-r', '@swc-node/register', 'scripts/openapi/client-types.ts', '--check'], {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.json' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
});
