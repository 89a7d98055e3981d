/**
 * kalshi normalizers: raw frame → typed records (style lesson 2). Normalization is a later issue; the file exists so
 * every venue folder has the same files, and exports an empty list until then.
 */
export const normalizers: readonly never[] = [];
