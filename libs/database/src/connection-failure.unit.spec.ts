import { describe, expect, test } from '@jest/globals';
import { databaseUnavailableProblem } from './connection-failure';

describe('databaseUnavailableProblem', () => {
  test('a refused or lost connection is a retryable 503 database-unavailable with Retry-After', () => {
    for (const error of [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), new Error('Connection terminated unexpectedly')]) {
      expect(databaseUnavailableProblem(error)).toMatchObject({ code: 'database-unavailable', status: 503, headers: { 'retry-after': '1' } });
    }
  });

  test('a query the database refused for its content is not its problem', () => {
    expect(databaseUnavailableProblem(Object.assign(new Error('value too long'), { code: '22001' }))).toBeUndefined();
  });
});
