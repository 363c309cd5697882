/**
 * The machine's state while a benchmark runs: on a shared machine a figure means little
 * without the load it was measured under.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes | undefined {
  try {
    // First line of /proc/stat: user nice system idle iowait irq softirq steal ...
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3]! + (fields[4] ?? 0);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Measures how busy every core was (all processes, this benchmark's included) between start and stop. */
export function machineLoadMeter() {
  const start = cpuTimes();
  return {
    /** Busy share of all cores, 0..1, since the meter started; undefined off Linux. */
    busyShare(): number | undefined {
      const end = cpuTimes();
      if (!start || !end || end.total === start.total) return undefined;
      return (end.busy - start.busy) / (end.total - start.total);
    },
  };
}

export function machineSummary() {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", loadAverage1m: Number(loadavg()[0]!.toFixed(2)), node: process.version };
}
