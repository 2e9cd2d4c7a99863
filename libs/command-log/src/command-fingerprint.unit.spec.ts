import { describe, expect, test } from '@jest/globals';
import { fingerprintOf } from './command-fingerprint';

describe('fingerprintOf', () => {
  test('the same request with its keys in another order, or with undefined fields, has the same fingerprint', () => {
    expect(fingerprintOf({ b: 1, a: { y: [1, 2], x: 'x' } })).toBe(fingerprintOf({ a: { x: 'x', y: [1, 2], z: undefined }, b: 1 }));
  });

  test('another request has another fingerprint', () => {
    expect(fingerprintOf({ a: [1, 2] })).not.toBe(fingerprintOf({ a: [2, 1] }));
  });
});
