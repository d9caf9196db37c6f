//! The async runtime a run is driven on, chosen by how many tasks may run at once.
//!
//! With no more tasks than CPUs, everything runs on the calling thread: a finished task's
//! slot is refilled without waking another thread, which is what keeps a run of many short
//! tasks quick. With more tasks than CPUs, the tasks' processes outnumber the CPUs and the
//! one thread would wait its turn among them; the executor units (spawning, waiting,
//! copying output) then run on a thread per CPU while the dispatcher stays one future on
//! the calling thread, so it still decides everything in one place.

/// A runtime for a run of up to `jobs` tasks at once on a machine with `cpus` CPUs.
pub fn runtime_for(jobs: usize, cpus: usize) -> std::io::Result<tokio::runtime::Runtime> {
    if uses_worker_threads(jobs, cpus) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cpus)
            .thread_name("fanout-unit")
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
}

/// The CPUs this process may use.
pub fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn uses_worker_threads(jobs: usize, cpus: usize) -> bool {
    cpus > 1 && jobs > cpus
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_threads_only_when_tasks_outnumber_cpus() {
        assert!(!uses_worker_threads(2, 2));
        assert!(!uses_worker_threads(1, 8));
        assert!(uses_worker_threads(8, 2));
        assert!(!uses_worker_threads(8, 1));
    }

    #[test]
    fn both_kinds_of_runtime_run_a_process() {
        for jobs in [1, 64] {
            let runtime = runtime_for(jobs, 2).unwrap();
            let status = runtime
                .block_on(async { tokio::process::Command::new("true").status().await })
                .unwrap();
            assert!(status.success());
        }
    }
}
