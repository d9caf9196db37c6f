//! `fanout map --latest-line` (`--ll`): for each job one line, the latest line it wrote
//! (stdout or stderr), after its tag. On a terminal the lines are redrawn in place as the
//! jobs write (a row per job, from when it starts; in job order with `--keep-order`), and
//! each job's row stays with its last line once it ends. Elsewhere each job's last line is
//! printed as the job ends (in job order with `--keep-order`). The jobs' whole output is
//! not printed, as in GNU parallel.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::events::{Event, EventSink};
use crate::map::with_slot;

/// How long the terminal's width, read once, is taken to hold.
const WIDTH_HOLDS: Duration = Duration::from_millis(500);

/// The terminal's width, read again once it is older than [`WIDTH_HOLDS`]: a job that
/// writes fast does not cost a system call a line.
struct Width(std::cell::Cell<Option<(Instant, usize)>>);

impl Width {
    fn get(&self) -> usize {
        match self.0.get() {
            Some((at, width)) if at.elapsed() < WIDTH_HOLDS => width,
            _ => {
                let width = console::Term::stdout().size().1 as usize;
                self.0.set(Some((Instant::now(), width)));
                width
            }
        }
    }
}

/// See the module documentation.
pub struct LatestLines {
    keep_order: bool,
    /// Each job's tag until it starts, or `None` without `--tag`.
    tags: HashMap<usize, Option<String>>,
    /// On a terminal: the rows, and each job's row from when it starts.
    rows: Option<MultiProgress>,
    bars: BTreeMap<usize, ProgressBar>,
    /// On a terminal, with `--keep-order`: the last rows of jobs that ended after a job
    /// still running; each goes above the live rows, for good, once every job before it
    /// has (so that the live rows are never more than the terminal can show).
    settled: BTreeMap<usize, String>,
    width: Width,
    /// Each running job: its attempt, the start of its row (its tag, its slot filled in)
    /// and its latest line.
    running: HashMap<usize, Running>,
    /// Not on a terminal, with `--keep-order`: the next job to print, and the rows of jobs
    /// that ended before it (`None`: the job printed nothing, or does not run).
    next: usize,
    ended: BTreeMap<usize, Option<String>>,
}

struct Running {
    attempt: u32,
    tag: String,
    /// `None` until it writes a line.
    latest: Option<String>,
}

impl Running {
    fn row(&self) -> String {
        format!("{}{}", self.tag, self.latest.as_deref().unwrap_or_default())
    }

    /// The row as a terminal `width` wide shows it: cut to fit in one column short of
    /// it, with `>` where it was cut, as GNU parallel cuts it.
    fn shown(&self, width: usize) -> String {
        fit(&untabify(&self.row()), width.saturating_sub(1))
    }
}

/// `row` cut to `width` characters, its last one `>` when it was cut.
fn fit(row: &str, width: usize) -> String {
    if row.chars().count() <= width {
        return row.to_string();
    }
    let mut cut: String = row.chars().take(width.saturating_sub(1)).collect();
    if width > 0 {
        cut.push('>');
    }
    cut
}

impl LatestLines {
    /// Lines on a terminal (`live`), or printed as jobs end.
    pub fn new(live: bool, keep_order: bool) -> Self {
        LatestLines {
            keep_order,
            tags: HashMap::new(),
            rows: live.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stdout())),
            bars: BTreeMap::new(),
            settled: BTreeMap::new(),
            width: Width(std::cell::Cell::new(None)),
            running: HashMap::new(),
            next: 0,
            ended: BTreeMap::new(),
        }
    }

    /// Job `index` takes part in the run (`selected`), its lines tagged with `tag`.
    pub fn add_job(&mut self, index: usize, tag: Option<String>, selected: bool) {
        if selected {
            self.tags.insert(index, tag);
        } else if self.keep_order {
            // Nothing to wait for.
            self.ended.insert(index, None);
        }
    }

    fn started(&mut self, index: usize, attempt: u32, slot: usize) {
        let tag = match self.tags.get(&index) {
            // A row is text: bytes that are not UTF-8 show as U+FFFD, as in GNU parallel.
            Some(Some(tag)) => format!(
                "{}\t",
                String::from_utf8_lossy(&crate::bytes::encode(&with_slot(tag, slot)))
            ),
            _ => String::new(),
        };
        let running = Running {
            attempt,
            tag,
            latest: None,
        };
        let row = running.shown(self.width.get());
        self.running.insert(index, running);
        let Some(rows) = &self.rows else {
            return;
        };
        if let Some(bar) = self.bars.get(&index) {
            // A new attempt starts its row afresh.
            bar.set_message(row);
            return;
        }
        // Drawn only among the rows, never on a target of its own.
        let bar = ProgressBar::hidden()
            .with_style(ProgressStyle::with_template("{msg}").expect("the template is valid"));
        // In job order with --keep-order: before the row of the first later job.
        let bar = match self.bars.range(index + 1..).next() {
            Some((_, later)) if self.keep_order => rows.insert_before(later, bar),
            _ => rows.add(bar),
        };
        bar.set_message(row);
        self.bars.insert(index, bar);
    }

    fn line(&mut self, index: usize, attempt: u32, line: &[u8]) {
        let Some(running) = self.running.get_mut(&index) else {
            return;
        };
        if running.attempt != attempt {
            return;
        }
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\n', '\r']);
        // What a progress meter's carriage returns leave showing.
        running.latest = Some(text.rsplit('\r').next().unwrap_or_default().to_string());
        if let Some(bar) = self.bars.get(&index) {
            bar.set_message(running.shown(self.width.get()));
        }
    }

    fn ended(&mut self, index: usize) {
        self.tags.remove(&index);
        let running = self.running.remove(&index);
        if let (Some(rows), Some(bar)) = (&self.rows, self.bars.get(&index)) {
            let width = self.width.get();
            let shown = running
                .map(|running| running.shown(width))
                .unwrap_or_default();
            if !self.keep_order {
                rows.remove(bar);
                let _ = rows.println(shown);
                self.bars.remove(&index);
                return;
            }
            bar.set_message(shown.clone());
            self.settled.insert(index, shown);
            // The rows of the oldest jobs, once they ended, go above for good.
            while let Some((&first, bar)) = self.bars.first_key_value()
                && let Some(shown) = self.settled.remove(&first)
            {
                rows.remove(bar);
                let _ = rows.println(shown);
                self.bars.remove(&first);
            }
            return;
        }
        let row = running
            .filter(|running| running.latest.is_some())
            .map(|running| running.row());
        if !self.keep_order {
            print_row(row.as_deref());
            return;
        }
        self.ended.insert(index, row);
        while let Some(row) = self.ended.remove(&self.next) {
            print_row(row.as_deref());
            self.next += 1;
        }
    }
}

/// Prints a row not on a terminal; `None` for a job that printed none.
fn print_row(row: Option<&str>) {
    if let Some(row) = row {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{row}");
        let _ = stdout.flush();
    }
}

/// `text` with each tab turned into the spaces to the next multiple of 8 (a terminal's
/// tab stops), so that its width is known.
fn untabify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut column = 0;
    for c in text.chars() {
        if c == '\t' {
            let spaces = 8 - column % 8;
            out.extend(std::iter::repeat_n(' ', spaces));
            column += spaces;
        } else {
            out.push(c);
            column += 1;
        }
    }
    out
}

impl EventSink for LatestLines {
    fn emit(&mut self, event: &Event) {
        match event {
            Event::TaskStarted {
                index,
                attempt,
                slot,
                ..
            } => self.started(*index, *attempt, *slot),
            Event::OutputLine {
                index,
                attempt,
                line,
                ..
            } => self.line(*index, *attempt, line),
            Event::AttemptFinished {
                index,
                retry_in: None,
                ..
            } => self.ended(*index),
            // Jobs that never started (a halt) print nothing; those that ended after them
            // go out now.
            Event::RunFinished { .. } => {
                for row in std::mem::take(&mut self.ended).into_values() {
                    print_row(row.as_deref());
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{fit, untabify};

    #[test]
    fn a_row_too_wide_is_cut_with_a_mark() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdefg", 6), "abcde>");
        assert_eq!(fit("ééé", 2), "é>");
        assert_eq!(fit("abc", 0), "");
    }

    #[test]
    fn tabs_become_spaces_to_the_next_tab_stop() {
        assert_eq!(untabify("a\tb"), "a       b");
        assert_eq!(untabify("abcdefgh\tc"), "abcdefgh        c");
        assert_eq!(untabify("é\t"), "é       ");
    }
}
