import { describe, expect, test } from '@jest/globals';
import { decodeConsistencyToken, encodeConsistencyToken, formatWalPosition, parseWalPosition } from './consistency-token';

describe('WAL positions', () => {
  test('read from and shown as PostgreSQL shows an LSN', () => {
    expect(parseWalPosition('16/B374D848')).toBe(0x16b374d848n);
    expect(parseWalPosition('0/0')).toBe(0n);
    expect(formatWalPosition(0x16b374d848n)).toBe('16/B374D848');
    expect(formatWalPosition(parseWalPosition('FFFFFFFF/FFFFFFFF'))).toBe('FFFFFFFF/FFFFFFFF');
    expect(() => parseWalPosition('16B374D848')).toThrow(/not a WAL position/);
  });
});

describe('consistency tokens', () => {
  test('carry the position they were made of', () => {
    for (const position of [0n, 1n, 0x16b374d848n, 0xffffffffffffffffn]) expect(decodeConsistencyToken(encodeConsistencyToken(position))).toBe(position);
  });

  test('sort as strings in the order of their positions', () => {
    const positions = [0x1n, 0xffn, 0x100000000n, 0x16b374d848n, 0xa0000000000n];
    const tokens = positions.map(encodeConsistencyToken);
    expect([...tokens].sort()).toEqual(tokens);
  });

  test('anything else is not a token', () => {
    for (const garbage of [
      '',
      'v1.',
      'v1.16b374d848',
      'v2.00000016b374d848',
      'v1.00000016B374D848',
      'v1.00000016b374d8480',
      ' v1.00000016b374d848',
      'garbage',
    ]) {
      expect(decodeConsistencyToken(garbage)).toBeNull();
    }
  });
});
