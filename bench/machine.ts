/**
 * The machine's state while a benchmark runs: on a shared machine a figure means little
 * without the load it was measured under.
 */
import { readdirSync, readFileSync } from "node:fs";
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

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on every Linux Node supports). */
const USER_HZ = 100;

/**
 * CPU time (ms) of a process's descendants, by command name (`java` for DynamoDB Local,
 * `node` for cognito-local): where a local turn's work goes besides the process itself.
 * Empty off Linux.
 */
export function descendantsCpuMs(pid = process.pid): Record<string, number> {
  const totals: Record<string, number> = {};
  const visit = (parent: number) => {
    for (const child of childrenOf(parent)) {
      try {
        // /proc/<pid>/stat: "pid (comm) state ..." with utime and stime the 14th and 15th fields.
        const stat = readFileSync(`/proc/${child}/stat`, "utf8");
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        totals[name] = (totals[name] ?? 0) + ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
      } catch {
        // The child ended between the listing and the read.
      }
      visit(child);
    }
  };
  visit(pid);
  return totals;
}

function childrenOf(pid: number): number[] {
  try {
    const tasks = readdirSync(`/proc/${pid}/task`);
    return tasks.flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}
