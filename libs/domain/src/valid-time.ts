/**
 * Valid time: when something happened in the world. Historical dates are
 * often partial, so we keep the text, its precision and the half-open
 * `[lower, upper)` range of days it covers (EDTF level 0: `2022`, `2023-07`,
 * `2023-07-12`, or an interval of those, `2022-06-28/2022-06-30`).
 */
export type DatePrecision = 'year' | 'month' | 'day';

const PARTIAL_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;
/** ISO 8601 has a year 0000; PostgreSQL's dates do not (1 BC is year 0001 BC there). */
export const EARLIEST_YEAR = 1;
const PRECISION_RANK: Record<DatePrecision, number> = { year: 0, month: 1, day: 2 };

interface PartialDate {
  precision: DatePrecision;
  lower: string;
  upper: string;
}

/**
 * Parsed once where it enters (a request, a command record, a stored state);
 * JSON carries it as its text, so commands, read models and changes keep the
 * text as their format.
 */
export class ValidTime {
  private constructor(
    /** The text as given, e.g. `2023-07` or `2022-06-28/2022-06-30`. */
    readonly text: string,
    /** Precision of the coarsest end: a range `2022/2023-07` is `year`. */
    readonly precision: DatePrecision,
    /** First day covered, `YYYY-MM-DD`. */
    readonly lower: string,
    /** First day no longer covered, `YYYY-MM-DD` (exclusive). */
    readonly upper: string,
  ) {}

  /** The valid time `text` names, or undefined when it names none. */
  static parse(text: string): ValidTime | undefined {
    const parts = text.split('/');
    if (parts.length > 2) return undefined;
    const start = parsePartialDate(parts[0]);
    const end = parts.length === 2 ? parsePartialDate(parts[1]) : start;
    if (!start || !end) return undefined;
    if (compareDays(end.upper, start.lower) <= 0) return undefined;
    const precision = PRECISION_RANK[start.precision] <= PRECISION_RANK[end.precision] ? start.precision : end.precision;
    return new ValidTime(text, precision, start.lower, end.upper);
  }

  toJSON(): string {
    return this.text;
  }
}

/** A value as JSON carries it, for what is read back from JSON (read models, the outbox): valid time as its text. */
export type AsJson<T> = T extends ValidTime ? string : T extends object ? { [K in keyof T]: AsJson<T[K]> } : T;

/** Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD` into the days it covers. */
export function parsePartialDate(text: string): PartialDate | undefined {
  const match = PARTIAL_DATE.exec(text);
  if (!match) return undefined;
  const [, yearText, monthText, dayText] = match;
  const year = Number(yearText);
  if (year < EARLIEST_YEAR) return undefined;
  if (monthText === undefined) {
    return { precision: 'year', lower: isoDay(year, 1, 1), upper: isoDay(year + 1, 1, 1) };
  }
  const month = Number(monthText);
  if (month < 1 || month > 12) return undefined;
  if (dayText === undefined) {
    return { precision: 'month', lower: isoDay(year, month, 1), upper: firstOfNextMonth(year, month) };
  }
  const day = Number(dayText);
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  const next = utcDate(year, month, day + 1);
  return { precision: 'day', lower: isoDay(year, month, day), upper: isoDay(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()) };
}

/**
 * Orders two `YYYY-MM-DD` days. Plain string order fails past 9999: the day
 * after a range that ends in 9999 is `10000-01-01`.
 */
export function compareDays(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** `Date.UTC` reads years 0-99 as 1900-1999; `setUTCFullYear` does not. */
function utcDate(year: number, month: number, day: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date;
}

function firstOfNextMonth(year: number, month: number): string {
  return month === 12 ? isoDay(year + 1, 1, 1) : isoDay(year, month + 1, 1);
}

function daysInMonth(year: number, month: number): number {
  return utcDate(year, month + 1, 0).getUTCDate();
}

function isoDay(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
