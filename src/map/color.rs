//! GNU parallel's `--color`: each job's output lines on a background colour of their own,
//! picked by job number from GNU parallel's list, so that the two tools colour a run
//! alike; and `--color-failed`: a failed job's lines white on red.

use std::sync::OnceLock;

/// Ends a coloured stretch (what `tput sgr0` gives where there is no terminal to ask).
pub const RESET: &str = "\x1b[m";

/// Clears to the end of the line, so that the background fills it (`tput el`).
const CLEAR_TO_EOL: &str = "\x1b[K";

/// The colour of a failed job's lines with `--color-failed`: white on red.
pub const FAILED: &str = "\x1b[48;5;196;38;5;231m\x1b[K";

/// The colour of job `seq`'s lines (from 1), with its clear-to-end-of-line.
pub fn job_color(seq: usize) -> &'static str {
    let colors = palette();
    &colors[seq % colors.len()]
}

/// GNU parallel's readable pairs (black or white text on a background), in its order:
/// reordered so that neighbours differ.
fn palette() -> &'static [String] {
    static PALETTE: OnceLock<Vec<String>> = OnceLock::new();
    PALETTE.get_or_init(|| {
        let on_light = [
            6..=7,
            9..=11,
            13..=15,
            40..=51,
            75..=87,
            113..=123,
            147..=159,
            171..=182,
            185..=231,
            249..=254,
        ];
        let on_dark = [
            1..=9,
            12..=13,
            16..=45,
            52..=81,
            88..=114,
            124..=149,
            160..=178,
            180..=180,
            182..=184,
            196..=214,
            232..=250,
        ];
        let pairs: Vec<(u32, u32)> = on_light
            .into_iter()
            .flatten()
            .map(|bg| (bg, 0))
            .chain(on_dark.into_iter().flatten().map(|bg| (bg, 231)))
            .collect();
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        // A stable sort, as Perl's.
        order.sort_by(|a, b| (a % 23).cmp(&(b % 23)).then((b % 7).cmp(&(a % 7))));
        order
            .into_iter()
            .map(|i| {
                let (bg, fg) = pairs[i];
                format!("\x1b[48;5;{bg:03};38;5;{fg:03}m{CLEAR_TO_EOL}")
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_follow_gnu_parallels_list() {
        assert_eq!(palette().len(), 307);
        // Seen in GNU parallel's output for jobs 1 and 2, and 307 wraps to the first.
        assert_eq!(job_color(1), "\x1b[48;5;134;38;5;231m\x1b[K");
        assert_eq!(job_color(2), "\x1b[48;5;021;38;5;231m\x1b[K");
        assert_eq!(job_color(307), "\x1b[48;5;185;38;5;000m\x1b[K");
    }
}
