/**
 * Value parsers shared by both drivers so `pg` and PGlite return the same JavaScript values:
 * int8 as number (ids and counts stay far below 2^53), `date` as its `YYYY-MM-DD` text (a UTC
 * day is a label, never a local-midnight Date), numeric as exact text.
 */
export const INT8_OID = 20;
export const DATE_OID = 1082;
export const NUMERIC_OID = 1700;
export const DATE_ARRAY_OID = 1182;

/** `{2026-12-24,2026-12-25}` -> labels; dates never need quoting in array text. */
function dateArray(text: string): Array<string | null> {
  const body = text.slice(1, -1);
  return body === '' ? [] : body.split(',').map((d) => (d === 'NULL' ? null : d));
}

export const TYPE_PARSERS: Record<number, (text: string) => unknown> = {
  [INT8_OID]: (text) => Number(text),
  [DATE_OID]: (text) => text,
  [NUMERIC_OID]: (text) => text,
  [DATE_ARRAY_OID]: dateArray,
};
