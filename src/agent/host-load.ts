// The host's CPU and memory use, as the predictive signals read them: CPU from the difference between
// two readings of /proc/stat (the share of time not idle since the last sample), memory from
// /proc/meminfo's MemAvailable (what the kernel says it could hand out without swapping, page cache
// included, so a full cache does not look like pressure). Where /proc is missing (not Linux) a
// reading is undefined and that signal is skipped.

import { readFileSync } from "node:fs";

export interface HostReadings {
  /** Percent of CPU time busy since the previous sample; undefined on the first sample. */
  cpuPercent?: number;
  /** Percent of memory in use. */
  memoryPercent?: number;
}

/** Takes one sample each call; keeps what it needs to compute the next CPU delta. */
export interface HostSampler {
  sample(): HostReadings;
}

export interface CpuTimes {
  busy: number;
  total: number;
}

/** The aggregate "cpu" line of /proc/stat; idle and iowait count as idle (as top does). */
export function parseCpuTimes(stat: string): CpuTimes | undefined {
  const line = stat.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return undefined;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return undefined;
  // guest and guest_nice (fields 9 and 10) are already inside user and nice.
  const total = fields.slice(0, 8).reduce((sum, n) => sum + n, 0);
  const idle = fields[3]! + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

export function cpuPercentBetween(before: CpuTimes, after: CpuTimes): number | undefined {
  const total = after.total - before.total;
  if (total <= 0) return undefined;
  return Math.min(100, Math.max(0, ((after.busy - before.busy) / total) * 100));
}

export function parseMemoryPercent(meminfo: string): number | undefined {
  const kb = (key: string) => {
    const match = new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(meminfo);
    return match ? Number(match[1]) : undefined;
  };
  const total = kb("MemTotal");
  const available = kb("MemAvailable");
  if (!total || available === undefined) return undefined;
  return Math.min(100, Math.max(0, (1 - available / total) * 100));
}

/** A sampler reading /proc; one per sampling interval, as each keeps its own previous CPU reading. */
export function procSampler(): HostSampler {
  let previous: CpuTimes | undefined;
  return {
    sample() {
      const cpu = readProc("/proc/stat", parseCpuTimes);
      const readings: HostReadings = { memoryPercent: readProc("/proc/meminfo", parseMemoryPercent) };
      if (cpu && previous) readings.cpuPercent = cpuPercentBetween(previous, cpu);
      previous = cpu;
      return readings;
    },
  };
}

function readProc<T>(file: string, parse: (text: string) => T | undefined): T | undefined {
  try {
    return parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}
