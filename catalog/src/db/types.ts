/**
 * Value parsers shared by both drivers so `pg` and PGlite return the same JavaScript values:
 * int8 as number (ids and counts stay far below 2^53), `date` as its `YYYY-MM-DD` text (a UTC
 * day is a label, never a local-midnight Date), numeric as exact text.
 */
export const INT8_OID = 20;
export const DATE_OID = 1082;
export const NUMERIC_OID = 1700;

export const TYPE_PARSERS: Record<number, (text: string) => unknown> = {
  [INT8_OID]: (text) => Number(text),
  [DATE_OID]: (text) => text,
  [NUMERIC_OID]: (text) => text,
};
