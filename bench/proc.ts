/**
 * What the kernel knows about a process (Linux /proc): its peak resident memory and the CPU time
 * it and its children used. Everything here returns null off Linux or for a process we cannot read.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const MIB = 2 ** 20;

function statusField(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((each) => each.startsWith(`${field}:`));
    const kib = line ? Number(line.split(/\s+/)[1]) : Number.NaN;
    return Number.isFinite(kib) ? (kib * 1024) / MIB : null;
  } catch {
    return null;
  }
}

/** The process's resident-set high-water mark (VmHWM), in MiB. */
export const peakRssMiB = (pid: number): number | null => statusField(pid, 'VmHWM');

/** The process's resident set right now (VmRSS), in MiB. */
export const rssMiB = (pid: number): number | null => statusField(pid, 'VmRSS');

/** Resets VmHWM to the current RSS (`echo 5 > clear_refs`, Linux 4.0+): a later peak is this phase's own. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Follows a process's peak RSS through one phase: VmHWM reset at the start (sampled VmRSS as the
 * fallback where the reset is refused), read at the end.
 */
export function trackPeakRss(pid: number, intervalMs = 100): { stop(): number | null } {
  const reset = resetPeakRss(pid);
  let sampled = rssMiB(pid) ?? 0;
  const timer = setInterval(() => {
    sampled = Math.max(sampled, rssMiB(pid) ?? 0);
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const peak = reset ? peakRssMiB(pid) : null;
      return peak ?? (sampled > 0 ? sampled : null);
    },
  };
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface StatLine {
  ppid: number;
  /** utime + stime + cutime + cstime: its own CPU and that of the children it reaped. */
  ticks: number;
}

function readStat(pid: number): StatLine | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), numbered from field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const at = (field: number) => Number(fields[field - 3]);
    return { ppid: at(4), ticks: at(14) + at(15) + at(16) + at(17) };
  } catch {
    return null;
  }
}

/**
 * CPU seconds a process tree has used so far: the process, what it reaped, and its live
 * descendants (PostgreSQL's backends are children of the postmaster).
 */
export function treeCpuSeconds(pid: number): number | null {
  const root = readStat(pid);
  if (!root) return null;
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const child = Number(name);
    if (!Number.isInteger(child)) continue;
    const stat = readStat(child);
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), child]);
  }
  let ticks = root.ticks;
  const queue = [...(children.get(pid) ?? [])];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    ticks += readStat(next)?.ticks ?? 0;
    queue.push(...(children.get(next) ?? []));
  }
  return ticks / clockTicks();
}

/** CPU seconds the whole machine has been busy (all cores; /proc/stat, idle and iowait excluded). */
export function machineCpuSeconds(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return (user + nice + system + irq + softirq + steal) / clockTicks();
  } catch {
    return null;
  }
}

/**
 * CPU seconds each named process tree used between `start()` and `stop()`, this process's own
 * (`bench`), and `others`: what the rest of the machine used meanwhile (other work skews timings).
 */
export function trackCpu(pids: Record<string, number | null>): { stop(): Record<string, number | null> } {
  const before = Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => [name, pid ? treeCpuSeconds(pid) : null]),
  );
  const ownBefore = process.cpuUsage();
  const machineBefore = machineCpuSeconds();
  return {
    stop() {
      const used: Record<string, number | null> = {};
      for (const [name, pid] of Object.entries(pids)) {
        const start = before[name];
        const end = pid ? treeCpuSeconds(pid) : null;
        used[name] = start === null || start === undefined || end === null ? null : end - start;
      }
      const own = process.cpuUsage(ownBefore);
      used.bench = (own.user + own.system) / 1e6;
      const machineAfter = machineCpuSeconds();
      if (machineBefore !== null && machineAfter !== null) {
        const ours = Object.values(used).reduce<number>((sum, seconds) => sum + (seconds ?? 0), 0);
        used.others = Math.max(0, machineAfter - machineBefore - ours);
      }
      return used;
    },
  };
}
