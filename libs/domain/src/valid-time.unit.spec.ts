import { describe, expect, test } from '@jest/globals';
import { ValidTime } from './valid-time';

describe('ValidTime.parse', () => {
  test.each([
    ['2022', 'year', '2022-01-01', '2023-01-01'],
    ['2023-07', 'month', '2023-07-01', '2023-08-01'],
    ['2023-12', 'month', '2023-12-01', '2024-01-01'],
    ['2023-07-12', 'day', '2023-07-12', '2023-07-13'],
    ['2024-02-29', 'day', '2024-02-29', '2024-03-01'],
    ['2022-06-28/2022-06-30', 'day', '2022-06-28', '2022-07-01'],
    ['2022/2023-07', 'year', '2022-01-01', '2023-08-01'],
    ['0001', 'year', '0001-01-01', '0002-01-01'],
    ['0050-12-31', 'day', '0050-12-31', '0051-01-01'],
    ['0004-02-29', 'day', '0004-02-29', '0004-03-01'],
    ['9999', 'year', '9999-01-01', '10000-01-01'],
    ['9999-12-31', 'day', '9999-12-31', '10000-01-01'],
    ['2022/9999', 'year', '2022-01-01', '10000-01-01'],
  ])('%s covers [%s, %s) with precision %s', (text, precision, lower, upper) => {
    expect(ValidTime.parse(text)).toEqual({ text, precision, lower, upper });
  });

  test.each([
    '',
    '22',
    '0000',
    '0000-01-01',
    '0000/2022',
    '0001-02-29',
    '2023-13',
    '2023-02-29',
    '2023-07-1',
    '2023-07-12/2023-07-11',
    'a/b/c',
    '2023-07-12T10:00',
  ])('rejects %p', (text) => {
    expect(ValidTime.parse(text)).toBeUndefined();
  });

  test('is its text in JSON, the format of commands, read models and changes', () => {
    expect(JSON.stringify({ validTime: ValidTime.parse('2022-06-28/2022-06-30') })).toBe('{"validTime":"2022-06-28/2022-06-30"}');
  });
});
