import { z } from 'zod';

/**
 * Text the read models can store. PostgreSQL refuses NUL in `text` and in
 * `jsonb`, and refuses an unpaired UTF-16 surrogate in `jsonb` (in `text` it
 * would silently become U+FFFD). A command carrying either would be accepted
 * by the decider and then refused by the database, so both are refused where
 * text enters: the api's validation and the projector's reading of a record.
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}

export const STORABLE_TEXT_MESSAGE = 'must not contain NUL (U+0000) or unpaired surrogate (U+D800-U+DFFF) characters';

/** A string the read models can store; every free-text field and parameter starts from it. */
export const storableString = () => z.string().refine(isStorableText, { message: STORABLE_TEXT_MESSAGE, abort: true });

/** `text` with what the database would refuse replaced by U+FFFD: for our own messages that quote a record. */
export function toStorableText(text: string): string {
  return text.replaceAll('\u0000', '\ufffd').toWellFormed();
}
