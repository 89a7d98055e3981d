/**
 * Tiny benchmark kit: every figure is printed next to a baseline measured in the same run, as a
 * ratio, because these machines are shared and absolute numbers drift.
 */
export interface Measurement {
  name: string;
  /** Operations performed. */
  ops: number;
  ms: number;
  /** Extra figures (e.g. peak RSS MiB). */
  extra?: Record<string, number | string>;
}

export const rate = (m: Measurement): number => (m.ops / m.ms) * 1000;

/** Time `fn`, which performs `ops` operations. */
export async function measure(name: string, ops: number, fn: () => Promise<void>): Promise<Measurement> {
  const start = process.hrtime.bigint();
  await fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { name, ops, ms };
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

/** Print a section: the baseline first, then each candidate with its ratio to the baseline. */
export function report(title: string, baseline: Measurement, candidates: Measurement[], target?: { ratio: number; note: string }): string {
  const lines = [`## ${title}`, '', '| run | ops | ms | ops/s | ratio to baseline |', '|---|---:|---:|---:|---:|'];
  const row = (m: Measurement, ratio: string) => `| ${m.name} | ${m.ops} | ${fmt(m.ms)} | ${fmt(rate(m))} | ${ratio} |`;
  lines.push(row(baseline, '1.00 (baseline)'));
  for (const c of candidates) lines.push(row(c, (rate(c) / rate(baseline)).toFixed(2)));
  if (target) lines.push('', `target: ${target.note}`);
  for (const m of [baseline, ...candidates]) if (m.extra) lines.push(`${m.name}: ${Object.entries(m.extra).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(`${text}\n`);
  return text;
}
