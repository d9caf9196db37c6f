//! `--filter`: a job runs only when each of its tests, Perl expressions with the job's
//! replacement strings filled in, is true, as GNU parallel's `--filter` runs them. A job
//! filtered out keeps its number and counts as skipped.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Template;
use super::perl::Perl;

/// The tests of `--filter`, and the `perl` process that runs them.
pub struct Filter {
    tests: Vec<Template>,
    perl: Mutex<Perl>,
    /// A test Perl could not run has been reported.
    warned: AtomicBool,
}

impl Filter {
    /// Runs `tests` (each filled in unquoted, as GNU parallel fills them) in a `perl`
    /// process of their own; an error when perl does not start.
    pub fn new(tests: Vec<Template>) -> Result<Filter, String> {
        let perl = Perl::start(&[]).map_err(|err| err.replace("`{= … =}`", "--filter"))?;
        Ok(Filter {
            tests,
            perl: Mutex::new(perl),
            warned: AtomicBool::new(false),
        })
    }

    /// Whether job `seq` with `inputs` passes every test. A test that is not Perl is
    /// false, as in GNU parallel; the first one is reported on stderr.
    pub fn passes(&self, inputs: &[String], seq: usize) -> bool {
        let mut perl = self
            .perl
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for test in &self.tests {
            let code = test.fill(inputs, seq, false);
            match perl.test(&code) {
                Ok(true) => {}
                Ok(false) => return false,
                Err(why) => {
                    if !self.warned.swap(true, Ordering::Relaxed) {
                        crate::bytes::eprint(&format!(
                            "fanout map: --filter `{code}` (job {seq}): {why}\n"
                        ));
                    }
                    return false;
                }
            }
        }
        true
    }
}
