//! The machine-load gate (`max_cpu`, `max_memory`, `max_load` in `[settings]`; `fanout
//! run -l`; `fanout map --load` and `--memfree`): while the machine's CPU, memory or load
//! is above its limit, no new task starts. CPU use is measured between two readings of /proc/stat; memory use is MemTotal
//! − MemAvailable of /proc/meminfo; the load is /proc/stat's runnable processes, fanout's
//! own reading thread not counted; swapping (`fanout map --noswap`) is pages both swapped
//! in and swapped out (/proc/vmstat) between two looks.
//!
//! `fanout map --memsuspend SIZE` adds to the memory the gate asks for (SIZE more than
//! `--memfree`, as GNU parallel counts it), and [`to_keep_running`] tells how many of the
//! running tasks may go on while memory is short; the dispatcher stops the others.

use std::time::{Duration, Instant};

use crate::plan::Settings;

/// How often the gate looks again while it holds tasks back.
pub(crate) const RECHECK: Duration = Duration::from_millis(500);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CpuSample {
    busy: u64,
    total: u64,
}

/// Why new tasks wait for the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hold {
    pub(crate) reason: String,
    /// Only `--memsuspend`'s share of the memory is short: one task may run all the same,
    /// as its promise goes, when none does.
    pub(crate) one_may_run: bool,
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct LoadGate {
    max_cpu: Option<u8>,
    max_memory: Option<u8>,
    min_free_memory: Option<u64>,
    mem_suspend: Option<u64>,
    max_load: Option<f64>,
    cpu: Readings<CpuSample>,
    cpu_percent: Option<f64>,
    no_swap: bool,
    /// Pages swapped in and out, and whether the machine swapped both ways between the
    /// last two readings.
    swap: Readings<SwapSample>,
    swapping: Option<SwapSample>,
}

/// Pages swapped in and out since boot, or between two readings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SwapSample {
    pages_in: u64,
    pages_out: u64,
}

impl LoadGate {
    /// The gate of `settings`' limits; `None` when there are none.
    pub(crate) fn new(settings: &Settings) -> Option<LoadGate> {
        let gate = LoadGate {
            max_cpu: settings.max_cpu,
            max_memory: settings.max_memory,
            min_free_memory: settings.min_free_memory,
            mem_suspend: settings.mem_suspend,
            max_load: settings.max_load,
            cpu: Readings { last: None },
            cpu_percent: None,
            no_swap: settings.no_swap,
            swap: Readings { last: None },
            swapping: None,
        };
        let limited = gate.max_cpu.is_some()
            || gate.max_memory.is_some()
            || gate.min_free_memory.is_some()
            || gate.mem_suspend.is_some()
            || gate.max_load.is_some()
            || gate.no_swap;
        limited.then(|| LoadGate {
            cpu: Readings::new(read_cpu),
            swap: Readings::new(read_swap),
            ..gate
        })
    }

    /// Why new tasks must wait now, or `None` when they may start.
    pub(crate) fn over(&mut self) -> Option<Hold> {
        self.why().map(|(reason, one_may_run)| Hold {
            reason,
            one_may_run,
        })
    }

    fn why(&mut self) -> Option<(String, bool)> {
        let meminfo = (self.max_memory.is_some()
            || self.min_free_memory.is_some()
            || self.mem_suspend.is_some())
        .then(|| std::fs::read_to_string("/proc/meminfo").ok())
        .flatten();
        if let Some(max) = self.max_memory
            && let Some(used) = meminfo.as_deref().and_then(memory_percent)
            && used > f64::from(max)
        {
            return Some((
                format!("memory at {used:.0}%, above max_memory = {max}%"),
                false,
            ));
        }
        if let Some(min) = self.min_free_memory
            && let Some(free) = meminfo.as_deref().and_then(available_bytes)
            && free < min
        {
            return Some((
                format!(
                    "{} of memory available, less than --memfree {}",
                    mebibytes(free),
                    mebibytes(min)
                ),
                false,
            ));
        }
        if let Some(size) = self.mem_suspend
            && let Some(free) = meminfo.as_deref().and_then(available_bytes)
            && free < size.saturating_add(self.min_free_memory.unwrap_or(0))
        {
            let memfree = match self.min_free_memory {
                Some(min) => format!(" and --memfree {}", mebibytes(min)),
                None => String::new(),
            };
            return Some((
                format!(
                    "{} of memory available, less than --memsuspend {}{memfree}",
                    mebibytes(free),
                    mebibytes(size)
                ),
                true,
            ));
        }
        if let Some(max) = self.max_load
            && let Some(running) = std::fs::read_to_string("/proc/stat")
                .ok()
                .and_then(|s| runnable(&s))
            && running as f64 >= max
        {
            return Some((
                format!("{running} processes runnable, at or above the load limit of {max}"),
                false,
            ));
        }
        if let Some(max) = self.max_cpu {
            self.sample_cpu();
            if let Some(used) = self.cpu_percent
                && used > f64::from(max)
            {
                return Some((format!("CPU at {used:.0}%, above max_cpu = {max}%"), false));
            }
        }
        if self.no_swap {
            self.sample_swap();
            if let Some(SwapSample {
                pages_in,
                pages_out,
            }) = self.swapping
            {
                return Some((
                    format!(
                        "the machine swaps: {pages_in} pages swapped in and {pages_out} out \
                         since the last look (--noswap)"
                    ),
                    false,
                ));
            }
        }
        None
    }

    /// Updates the CPU figure when the last reading is old enough to mean something.
    fn sample_cpu(&mut self) {
        if let Some((before, after)) = self.cpu.next(read_cpu) {
            self.cpu_percent = cpu_percent(before, after);
        }
    }

    /// Updates whether the machine swaps, likewise.
    fn sample_swap(&mut self) {
        if let Some((before, after)) = self.swap.next(read_swap) {
            self.swapping = swapped_both_ways(before, after);
        }
    }
}

/// Readings of counters of the machine's since boot (/proc), of which two tell what
/// happened between them.
#[derive(Debug)]
struct Readings<T> {
    last: Option<(Instant, T)>,
}

impl<T: Copy> Readings<T> {
    fn new(read: impl FnOnce() -> Option<T>) -> Readings<T> {
        Readings {
            last: read().map(|sample| (Instant::now(), sample)),
        }
    }

    /// A new reading and the one before it, when that one is old enough for the two to
    /// mean something.
    fn next(&mut self, read: impl FnOnce() -> Option<T>) -> Option<(T, T)> {
        let now = Instant::now();
        if let Some((at, _)) = self.last
            && now.duration_since(at) < Duration::from_millis(200)
        {
            return None;
        }
        let sample = read()?;
        let before = self.last.replace((now, sample))?.1;
        Some((before, sample))
    }
}

fn read_swap() -> Option<SwapSample> {
    std::fs::read_to_string("/proc/vmstat")
        .ok()
        .and_then(|s| parse_swap(&s))
}

/// `pswpin` and `pswpout` of /proc/vmstat.
fn parse_swap(vmstat: &str) -> Option<SwapSample> {
    let field = |name: &str| {
        vmstat
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))?
            .trim()
            .parse()
            .ok()
    };
    Some(SwapSample {
        pages_in: field("pswpin")?,
        pages_out: field("pswpout")?,
    })
}

/// The pages swapped in and out between two readings, when both moved (GNU parallel's
/// rule: swap-in times swap-out above zero).
fn swapped_both_ways(before: SwapSample, after: SwapSample) -> Option<SwapSample> {
    let pages_in = after.pages_in.checked_sub(before.pages_in)?;
    let pages_out = after.pages_out.checked_sub(before.pages_out)?;
    (pages_in > 0 && pages_out > 0).then_some(SwapSample {
        pages_in,
        pages_out,
    })
}

fn read_cpu() -> Option<CpuSample> {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| parse_cpu(&s))
}

/// The aggregate `cpu` line: busy = everything but idle and iowait.
fn parse_cpu(stat: &str) -> Option<CpuSample> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4).unwrap_or(&0);
    Some(CpuSample {
        busy: total - idle,
        total,
    })
}

fn cpu_percent(before: CpuSample, after: CpuSample) -> Option<f64> {
    let total = after.total.checked_sub(before.total)?;
    let busy = after.busy.checked_sub(before.busy)?;
    (total > 0).then(|| 100.0 * busy as f64 / total as f64)
}

/// A `/proc/meminfo` field, in kB.
fn meminfo_field(meminfo: &str, name: &str) -> Option<f64> {
    meminfo
        .lines()
        .find(|l| l.starts_with(name))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn memory_percent(meminfo: &str) -> Option<f64> {
    let total = meminfo_field(meminfo, "MemTotal:")?;
    let available = meminfo_field(meminfo, "MemAvailable:")?;
    (total > 0.0).then(|| 100.0 * (total - available) / total)
}

fn available_bytes(meminfo: &str) -> Option<u64> {
    meminfo_field(meminfo, "MemAvailable:").map(|kb| (kb * 1024.0) as u64)
}

/// The memory available now (`MemAvailable` of /proc/meminfo), in bytes.
pub(crate) fn available_memory() -> Option<u64> {
    available_bytes(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

/// Of `running` tasks, how many (the oldest) may go on running while `free` bytes of
/// memory are available, under `--memsuspend size`: all of them from 2 × size up; below
/// that, GNU parallel's rule, more the nearer `free` is to 2 × size (1.5 × size: 3,
/// 1.75 × size: 5), and below size one.
pub(crate) fn to_keep_running(free: u64, size: u64, running: usize) -> usize {
    if size == 0 || free >= size.saturating_mul(2) {
        return running;
    }
    let ratio = free as f64 / size as f64;
    let more = (1.0 / (2.0 - ratio)).floor() as usize;
    (more.min(running.saturating_sub(1)) + 1).min(running)
}

/// A byte count for people: whole mebibytes.
pub(crate) fn mebibytes(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / f64::from(1 << 20))
}

/// Runnable processes (`procs_running`), less the thread reading them.
fn runnable(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("procs_running "))?;
    let running: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(running.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory_figures_come_from_proc() {
        let a = parse_cpu("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n").unwrap();
        let b = parse_cpu("cpu  250 0 150 800 100 0 0 0 0 0\n").unwrap();
        assert_eq!(
            a,
            CpuSample {
                busy: 200,
                total: 1000
            }
        );
        assert_eq!(cpu_percent(a, b), Some(66.66666666666667));
        let mem = "MemTotal:       1000 kB\nMemFree:  1 kB\nMemAvailable:    250 kB\n";
        assert_eq!(memory_percent(mem), Some(75.0));
        assert_eq!(memory_percent("nothing"), None);
        assert_eq!(available_bytes(mem), Some(250 * 1024));
        assert_eq!(
            runnable("cpu  1 2\nprocs_running 3\nprocs_blocked 0\n"),
            Some(2)
        );
        assert_eq!(runnable("cpu  1 2\n"), None);
    }

    #[test]
    fn the_gate_holds_back_above_a_memory_limit_and_lets_through_below() {
        let gate = |settings: Settings| LoadGate::new(&settings);
        // Memory is always used somewhat, and never above 100%.
        let memory = |max| Settings {
            max_memory: Some(max),
            ..Settings::default()
        };
        assert!(gate(memory(0)).unwrap().over().is_some());
        assert!(gate(memory(100)).unwrap().over().is_none());
        assert!(gate(Settings::default()).is_none());
        // Some memory is available, and less than all there is in the world.
        let free = |min| Settings {
            min_free_memory: Some(min),
            ..Settings::default()
        };
        assert!(gate(free(1)).unwrap().over().is_none());
        let held = gate(free(u64::MAX)).unwrap().over().unwrap().reason;
        assert!(held.contains("less than --memfree"), "{held}");
        // Nothing runnable is ever fewer than none.
        let load = Settings {
            max_load: Some(0.0),
            ..Settings::default()
        };
        assert!(
            gate(load)
                .unwrap()
                .over()
                .unwrap()
                .reason
                .contains("runnable")
        );
    }

    #[test]
    fn memsuspend_asks_for_its_size_beyond_memfree_while_a_task_runs() {
        let gate = |mem_suspend, min_free_memory| {
            LoadGate::new(&Settings {
                mem_suspend: Some(mem_suspend),
                min_free_memory,
                ..Settings::default()
            })
            .unwrap()
        };
        let held = gate(u64::MAX / 2, None).over().unwrap();
        assert!(held.reason.contains("less than --memsuspend"), "{held:?}");
        // With nothing running, one task may start all the same.
        assert!(held.one_may_run);
        assert_eq!(gate(1, None).over(), None);
        // The two add up: each less than there is, both together more.
        let part = available_memory().unwrap() / 5 * 3;
        let held = gate(part, Some(part)).over().unwrap();
        assert!(held.reason.contains("and --memfree"), "{held:?}");
        // --memfree alone holds back even with nothing running.
        assert!(!gate(1, Some(u64::MAX)).over().unwrap().one_may_run);
    }

    #[test]
    fn swapping_is_pages_both_swapped_in_and_out_between_two_looks() {
        let vmstat = |i, o| format!("nr_free_pages 5\npswpin {i}\npswpout {o}\npgfault 9\n");
        let sample = |i, o| parse_swap(&vmstat(i, o)).unwrap();
        assert_eq!(
            sample(3, 4),
            SwapSample {
                pages_in: 3,
                pages_out: 4
            }
        );
        assert_eq!(parse_swap("pswpin 1\n"), None);
        assert_eq!(
            swapped_both_ways(sample(3, 4), sample(5, 10)),
            Some(SwapSample {
                pages_in: 2,
                pages_out: 6
            })
        );
        // One way only, or not at all: not swapping.
        assert_eq!(swapped_both_ways(sample(3, 4), sample(9, 4)), None);
        assert_eq!(swapped_both_ways(sample(3, 4), sample(3, 9)), None);
        assert_eq!(swapped_both_ways(sample(3, 4), sample(3, 4)), None);
        // This machine's own figures read.
        assert!(read_swap().is_some());
    }

    #[test]
    fn the_nearer_memory_is_to_twice_memsuspend_the_more_tasks_go_on() {
        let g = 1 << 30;
        // Plenty: all of them.
        assert_eq!(to_keep_running(2 * g, g, 8), 8);
        assert_eq!(to_keep_running(u64::MAX, g, 8), 8);
        // Below the size: one, the oldest.
        assert_eq!(to_keep_running(g / 2, g, 8), 1);
        assert_eq!(to_keep_running(0, g, 8), 1);
        // GNU parallel's steps between: 1/(2 - free/size) more than one.
        assert_eq!(to_keep_running(g, g, 8), 2);
        assert_eq!(to_keep_running(g + g / 2, g, 8), 3);
        assert_eq!(to_keep_running(g + 3 * g / 4, g, 8), 5);
        // Never more than run.
        assert_eq!(to_keep_running(g + 3 * g / 4, g, 2), 2);
        assert_eq!(to_keep_running(g / 2, g, 0), 0);
        assert_eq!(to_keep_running(g, 0, 3), 3);
    }
}
