/** The ssmd version recorded on runs and provenance (the package version). */
export const VERSION = '0.1.0';
