/**
 * One table for every section's figures, printed and written to bench/results.json. Each row
 * carries its measured value, the baseline measured in the same run (where there is one) and
 * the goal, met or missed.
 */
import { writeFileSync } from "node:fs";

export interface Row {
  section: string;
  figure: string;
  value: string;
  baseline?: string;
  goal?: { text: string; met: boolean };
}

export function printTable(rows: Row[]): void {
  const cells = [["section", "figure", "measured", "baseline (same run)", "goal"], ...rows.map((r) => [r.section, r.figure, r.value, r.baseline ?? "", r.goal ? `${r.goal.text}: ${r.goal.met ? "met" : "MISSED"}` : ""])];
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 2 || c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  ").trimEnd();
  console.log(line(cells[0]!));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of cells.slice(1)) console.log(line(row));
}

export function writeResults(path: string, results: unknown): void {
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}

export const ms = (n: number) => `${n.toFixed(1)} ms`;
export const kb = (bytes: number) => `${(bytes / 1000).toFixed(0)} KB (${(bytes / 1024).toFixed(0)} KiB)`;
