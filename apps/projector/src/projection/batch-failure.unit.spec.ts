import { describe, expect, test } from '@jest/globals';
import { classifyFailure, DecideError, failureDetail, OffsetMovedError } from './batch-failure';

const pgError = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('classifyFailure', () => {
  test.each([
    ['22P05', 'unprocessable'], // untranslatable character: NUL in jsonb
    ['22007', 'unprocessable'], // invalid datetime format
    ['22008', 'unprocessable'], // datetime field overflow: year 0000
    ['23514', 'unprocessable'], // check violation
    ['23505', 'unprocessable'], // unique violation
    ['54000', 'unprocessable'], // program limit exceeded: an index row too large
    ['08006', 'connection'],
    ['40001', 'serialization'],
    ['40P01', 'serialization'],
    ['57014', 'timeout'], // statement_timeout
    ['55P03', 'timeout'], // lock_timeout
    ['57P01', 'shutdown'], // admin shutdown
    ['42P01', 'database'], // a table missing is the database's fault, not the record's
    ['42501', 'database'],
    ['25006', 'database'],
    ['53300', 'database'],
    ['XX000', 'database'],
  ])('SQLSTATE %s is %s', (code, failureClass) => {
    expect(classifyFailure(pgError(code))).toBe(failureClass);
  });

  test('what deciding throws is unprocessable: the same records always throw it', () => {
    expect(classifyFailure(new DecideError(new RangeError('Invalid time value')))).toBe('unprocessable');
  });

  test('lost connections, with or without a code, are connection failures', () => {
    expect(classifyFailure(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))).toBe('connection');
    expect(classifyFailure(new Error('Connection terminated unexpectedly'))).toBe('connection');
    expect(classifyFailure(new Error('timeout exceeded when trying to connect'))).toBe('connection');
    expect(classifyFailure(new Error('Client has encountered a connection error and is not queryable'))).toBe('connection');
  });

  test('a moved offset is fenced; anything unrecognised is transient, never a reason to reject a record', () => {
    expect(classifyFailure(new OffsetMovedError('moved'))).toBe('fenced');
    expect(classifyFailure(new TypeError('x is undefined'))).toBe('unknown');
    expect(classifyFailure('a string')).toBe('unknown');
    expect(classifyFailure(undefined)).toBe('unknown');
  });
});

describe('failureDetail', () => {
  test('the SQLSTATE and the message, not the detail that may quote the row', () => {
    const error = Object.assign(pgError('23514', 'new row for relation "events" violates check constraint "c"'), { detail: 'Failing row contains (secret)' });
    expect(failureDetail(error)).toBe('23514: new row for relation "events" violates check constraint "c"');
  });

  test('what deciding threw', () => {
    expect(failureDetail(new DecideError(new RangeError('Invalid time value')))).toBe('Invalid time value');
  });
});
