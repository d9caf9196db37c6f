//! The machine's CPUs as GNU parallel counts them (`--number-of-cores` and its kin): the
//! sockets, cores and threads of the kernel's CPU topology, none more than this process
//! may run on.

use std::path::Path;

/// How many CPU sockets, cores and threads there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuCounts {
    pub sockets: usize,
    pub cores: usize,
    pub threads: usize,
}

impl CpuCounts {
    /// This machine's, from `/sys/devices/system/cpu`, each at most the number of CPUs
    /// this process may run on. Where there is no topology to read, every count is the
    /// number of CPUs this process may run on.
    pub fn of_this_machine() -> CpuCounts {
        let allowed = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| allowed_cpus(&status));
        let fallback = crate::runner::available_cpus();
        CpuCounts::read(Path::new("/sys/devices/system/cpu"), allowed, fallback)
    }

    /// The counts of the topology under `prefix` (`cpuN/topology/…`, read from `cpu0` on
    /// until one is missing, as GNU parallel reads it): sockets are the different
    /// `physical_package_id`s, cores the different `thread_siblings` masks, threads the
    /// CPUs. `allowed` caps each; `fallback` stands for all three when there is no
    /// topology.
    pub fn read(prefix: &Path, allowed: Option<usize>, fallback: usize) -> CpuCounts {
        let mut sockets = std::collections::HashSet::new();
        let mut cores = std::collections::HashSet::new();
        let mut threads = 0;
        loop {
            let topology = prefix.join(format!("cpu{threads}/topology"));
            let (Ok(socket), Ok(siblings)) = (
                std::fs::read_to_string(topology.join("physical_package_id")),
                std::fs::read_to_string(topology.join("thread_siblings")),
            ) else {
                break;
            };
            sockets.insert(socket.trim().to_owned());
            cores.insert(siblings.trim().to_owned());
            threads += 1;
        }
        let counts = if threads == 0 {
            CpuCounts {
                sockets: fallback,
                cores: fallback,
                threads: fallback,
            }
        } else {
            CpuCounts {
                sockets: sockets.len(),
                cores: cores.len(),
                threads,
            }
        };
        let cap = |n: usize| allowed.map_or(n, |allowed| n.min(allowed)).max(1);
        CpuCounts {
            sockets: cap(counts.sockets),
            cores: cap(counts.cores),
            threads: cap(counts.threads),
        }
    }
}

/// The number of CPUs `/proc/self/status` says this process may run on (the bits of
/// `Cpus_allowed`, which `taskset` narrows).
fn allowed_cpus(status: &str) -> Option<usize> {
    let mask = status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed:"))?;
    let mut count = 0;
    for c in mask.trim().chars().filter(|&c| c != ',') {
        count += c.to_digit(16)?.count_ones() as usize;
    }
    Some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topology(cpus: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (k, (socket, siblings)) in cpus.iter().enumerate() {
            let topology = dir.path().join(format!("cpu{k}/topology"));
            std::fs::create_dir_all(&topology).unwrap();
            std::fs::write(topology.join("physical_package_id"), format!("{socket}\n")).unwrap();
            std::fs::write(topology.join("thread_siblings"), format!("{siblings}\n")).unwrap();
        }
        dir
    }

    #[test]
    fn sockets_cores_and_threads_come_from_the_topology() {
        // Two sockets of two cores of two threads each.
        let dir = topology(&[
            ("0", "03"),
            ("0", "03"),
            ("0", "0c"),
            ("0", "0c"),
            ("1", "30"),
            ("1", "30"),
            ("1", "c0"),
            ("1", "c0"),
        ]);
        let counts = CpuCounts::read(dir.path(), None, 99);
        assert_eq!(
            counts,
            CpuCounts {
                sockets: 2,
                cores: 4,
                threads: 8
            }
        );
        // taskset to 3 CPUs caps every count.
        let counts = CpuCounts::read(dir.path(), Some(3), 99);
        assert_eq!((counts.sockets, counts.cores, counts.threads), (2, 3, 3));
        // No topology: the fallback.
        let empty = tempfile::tempdir().unwrap();
        let counts = CpuCounts::read(empty.path(), None, 5);
        assert_eq!((counts.sockets, counts.cores, counts.threads), (5, 5, 5));
    }

    #[test]
    fn the_allowed_cpus_are_the_bits_of_the_mask() {
        let status = "Name:\tx\nCpus_allowed:\tff,0000000f\nCpus_allowed_list:\t0-3\n";
        assert_eq!(allowed_cpus(status), Some(12));
        assert_eq!(allowed_cpus("Name:\tx\n"), None);
    }
}
