//! The machine-load gate (`max_cpu`, `max_memory` in `[settings]`): while the machine's
//! CPU or memory use is above its limit, no new task starts. CPU use is measured between
//! two readings of /proc/stat; memory use is MemTotal − MemAvailable of /proc/meminfo.

use std::time::{Duration, Instant};

/// How often the gate looks again while it holds tasks back.
pub(crate) const RECHECK: Duration = Duration::from_millis(500);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CpuSample {
    busy: u64,
    total: u64,
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct LoadGate {
    max_cpu: Option<u8>,
    max_memory: Option<u8>,
    last: Option<(Instant, CpuSample)>,
    cpu_percent: Option<f64>,
}

impl LoadGate {
    /// `None` when neither limit is set.
    pub(crate) fn new(max_cpu: Option<u8>, max_memory: Option<u8>) -> Option<LoadGate> {
        (max_cpu.is_some() || max_memory.is_some()).then(|| LoadGate {
            max_cpu,
            max_memory,
            last: read_cpu().map(|s| (Instant::now(), s)),
            cpu_percent: None,
        })
    }

    /// Why new tasks must wait now, or `None` when they may start.
    pub(crate) fn over(&mut self) -> Option<String> {
        if let Some(max) = self.max_memory
            && let Some(used) = std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|m| memory_percent(&m))
            && used > f64::from(max)
        {
            return Some(format!("memory at {used:.0}%, above max_memory = {max}%"));
        }
        if let Some(max) = self.max_cpu {
            self.sample_cpu();
            if let Some(used) = self.cpu_percent
                && used > f64::from(max)
            {
                return Some(format!("CPU at {used:.0}%, above max_cpu = {max}%"));
            }
        }
        None
    }

    /// Updates the CPU figure when the last reading is old enough to mean something.
    fn sample_cpu(&mut self) {
        let now = Instant::now();
        if let Some((at, _)) = self.last
            && now.duration_since(at) < Duration::from_millis(200)
        {
            return;
        }
        let Some(sample) = read_cpu() else { return };
        if let Some((_, before)) = self.last {
            self.cpu_percent = cpu_percent(before, sample);
        }
        self.last = Some((now, sample));
    }
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

fn memory_percent(meminfo: &str) -> Option<f64> {
    let field = |name: &str| -> Option<f64> {
        meminfo
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let total = field("MemTotal:")?;
    let available = field("MemAvailable:")?;
    (total > 0.0).then(|| 100.0 * (total - available) / total)
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
    }

    #[test]
    fn the_gate_holds_back_above_a_memory_limit_and_lets_through_below() {
        // Memory is always used somewhat, and never above 100%.
        assert!(LoadGate::new(None, Some(0)).unwrap().over().is_some());
        assert!(LoadGate::new(None, Some(100)).unwrap().over().is_none());
        assert!(LoadGate::new(None, None).is_none());
    }
}
