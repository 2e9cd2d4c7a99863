import { describe, expect, test } from '@jest/globals';
import { PROBLEM_TYPES, Problem } from './problem';
import { toProblem } from './problem-details.filter';

describe('Problem', () => {
  test('is sent with the status its problem type has in the table', () => {
    expect(new Problem('version-conflict', 'timeline japan-nato is at version 7, not 6').status).toBe(409);
    expect(Problem.invalid([{ field: 'query.limit', message: 'too big' }]).status).toBe(PROBLEM_TYPES['invalid-request'].status);
  });

  test("a 4xx the HTTP server decided is an invalid-request that keeps the server's status", () => {
    const refused = Problem.refusedByServer(431, 'the request headers are too large');
    expect({ code: refused.code, status: refused.status }).toEqual({ code: 'invalid-request', status: 431 });
    expect(toProblem({ statusCode: 405, message: 'no' })).toMatchObject({ code: 'invalid-request', status: 405 });
  });

  test('an error a translator knows is its problem; an error no translator knows is internal', () => {
    const unavailable = new Problem('database-unavailable', 'down');
    const translators = [(error: unknown) => (error === 'lost connection' ? unavailable : undefined)];
    expect(toProblem('lost connection', translators)).toBe(unavailable);
    expect(toProblem(new Error('a bug'), translators)).toMatchObject({ code: 'internal', status: 500 });
  });
});
