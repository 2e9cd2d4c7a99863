import { describe, expect, test } from '@jest/globals';
import { parseValidTime } from './valid-time';

describe('parseValidTime', () => {
  test.each([
    ['2022', 'year', '2022-01-01', '2023-01-01'],
    ['2023-07', 'month', '2023-07-01', '2023-08-01'],
    ['2023-12', 'month', '2023-12-01', '2024-01-01'],
    ['2023-07-12', 'day', '2023-07-12', '2023-07-13'],
    ['2024-02-29', 'day', '2024-02-29', '2024-03-01'],
    ['2022-06-28/2022-06-30', 'day', '2022-06-28', '2022-07-01'],
    ['2022/2023-07', 'year', '2022-01-01', '2023-08-01'],
  ])('%s covers [%s, %s) with precision %s', (text, precision, lower, upper) => {
    expect(parseValidTime(text)).toEqual({ text, precision, lower, upper });
  });

  test.each(['', '22', '2023-13', '2023-02-29', '2023-07-1', '2023-07-12/2023-07-11', 'a/b/c', '2023-07-12T10:00'])(
    'rejects %p',
    (text) => {
      expect(parseValidTime(text)).toBeUndefined();
    },
  );
});
