/**
 * A position in PostgreSQL's write-ahead log (an LSN), as a number: PostgreSQL shows it as two hex halves,
 * `16/B374D848`. A write's consistency token carries the primary's WAL insert position read after its
 * decision was committed; a replica whose replay position is at or past it shows the write (invariant 9).
 */
export type WalPosition = bigint;

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** `16/B374D848` → 0x16B374D848. */
export function parseWalPosition(text: string): WalPosition {
  const match = LSN_TEXT.exec(text);
  if (!match) throw new Error(`not a WAL position (LSN): ${text}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** The text PostgreSQL would show (`16/B374D848`), for logs and the ops page. */
export function formatWalPosition(position: WalPosition): string {
  return `${(position >> 32n).toString(16).toUpperCase()}/${(position & 0xffffffffn).toString(16).toUpperCase()}`;
}

// Version 1: the position as 16 lowercase hex digits. Fixed width, so v1 tokens also sort as strings (the typed
// client keeps the greatest of its writes that way). Callers treat a token as opaque.
const TOKEN_V1 = /^v1\.([0-9a-f]{16})$/;

/** The `Consistency-Token` of a write whose decision is at or before `position`. */
export function encodeConsistencyToken(position: WalPosition): string {
  return `v1.${position.toString(16).padStart(16, '0')}`;
}

/** The position a token carries, or null when it is not a token this service gives out. */
export function decodeConsistencyToken(token: string): WalPosition | null {
  const match = TOKEN_V1.exec(token);
  return match ? BigInt(`0x${match[1]}`) : null;
}
