/**
 * One set of result parsers for both drivers, so a value has the same JS type whether it came from
 * PostgreSQL through `pg` or from PGlite. Without these, `count(*)` is a string from `pg` and a
 * number from PGlite, and a `date` is a local-time Date from one and a UTC Date from the other.
 *
 * - int8 (counts): number. Counts and ids here stay far below 2^53.
 * - numeric: string, exact; budget arithmetic works on the decimal text, never a float.
 * - date: 'YYYY-MM-DD' text.  timestamp without time zone: a Date read as UTC.
 * - float8, int2/int4, timestamptz, json(b): the drivers already agree (number, number, Date, object).
 */
export const TYPE_OIDS = { int8: 20, numeric: 1700, date: 1082, timestamp: 1114 } as const;

export const typeParsers: Record<number, (text: string) => unknown> = {
  [TYPE_OIDS.int8]: (text) => Number(text),
  [TYPE_OIDS.numeric]: (text) => text,
  [TYPE_OIDS.date]: (text) => text,
  [TYPE_OIDS.timestamp]: (text) => new Date(`${text.replace(' ', 'T')}Z`),
};
