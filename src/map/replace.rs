//! Replacement strings: `{}`, `{.}`, `{/}`, `{//}`, `{/.}`, `{#}`, `{%}`, `{N}` and
//! `{N.}`, `{N/}`, `{N//}`, `{N/.}`, as GNU parallel defines them, and with `--plus` its
//! further ones (see [`super::plus`]), `{##}` (the number of jobs), `{0#}` (the job number
//! padded with zeros to that width), `{slot}`, `{0%}` (the slot padded to the width of
//! the number of jobs), and `{uniq}` and `{choose_k}` (which skip
//! jobs). A command is parsed once into a [`Template`]; each job's command line is the
//! template filled with its inputs.

use std::sync::{Arc, Mutex};

use super::perl::Perl;
use super::plus::{Plus, plus_op};
use super::quote::shell_quote;
use crate::plan::FilePart;

/// What a replacement string does to an input value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transform {
    /// The value as is (`{}`).
    Whole,
    /// Without its extension (`{.}`): `dir/a.tar.gz` → `dir/a.tar`.
    NoExtension,
    /// The basename (`{/}`): everything after the last `/`.
    Basename,
    /// The dirname (`{//}`), as Perl's `File::Basename::dirname`.
    Dirname,
    /// The basename without its extension (`{/.}`).
    BasenameNoExtension,
    /// One of `--plus`'s.
    Plus(Plus),
}

impl Transform {
    pub fn apply(&self, value: &str) -> String {
        match self {
            Transform::Whole => value.to_owned(),
            Transform::NoExtension => strip_extension(value).to_owned(),
            Transform::Basename => basename(value).to_owned(),
            Transform::Dirname => dirname(value),
            Transform::BasenameNoExtension => strip_extension(basename(value)).to_owned(),
            Transform::Plus(plus) => plus.apply(value),
        }
    }
}

/// One piece of a parsed command.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// `{}`-like: every input (`arg: None`) or input N (1-based; negative: the Nth last).
    Input {
        arg: Option<isize>,
        transform: Transform,
    },
    /// `{#}`: the job's sequence number.
    Seq,
    /// `{%}`: the slot the job runs in, known only when it starts.
    Slot,
    /// `{0%}`: the slot, padded with zeros to the width of the number of jobs.
    PaddedSlot,
    /// `{##}`: how many jobs there are.
    Total,
    /// `{0#}`: the job's sequence number, padded with zeros to the width of the number of
    /// jobs.
    PaddedSeq,
    /// `{uniq}`, `{choose_k}`: every input (or input N), as `{}`; the job is skipped unless
    /// its inputs pass the rule.
    Skip {
        rule: SkipRule,
        arg: Option<isize>,
    },
    /// `{= perl =}` (every input) or `{=N perl =}` (input N): the value the Perl
    /// expression leaves in `$_`.
    Perl {
        arg: Option<isize>,
        code: String,
    },
    /// A word of a quoted command (`-q`) with replacement strings in it: filled, then
    /// quoted for the shell as one word.
    Word(Vec<Piece>),
    /// A word repeated for each input, that input standing for `{}` in it (`-X`).
    Context(Vec<Piece>),
}

/// Which jobs `{uniq}` and `{choose_k}` let run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SkipRule {
    /// No two inputs are the same.
    Unique,
    /// The inputs are in increasing order (each combination once, as n choose k).
    Increasing,
}

impl SkipRule {
    fn passes(self, args: &[String]) -> bool {
        match self {
            SkipRule::Unique => {
                let mut seen = std::collections::HashSet::new();
                args.iter().all(|a| seen.insert(a))
            }
            SkipRule::Increasing => args.windows(2).all(|w| w[0] < w[1]),
        }
    }
}

/// A command with its replacement strings found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
    /// How many jobs there are, for `{##}` and `{0#}`.
    total: Option<usize>,
    /// How many digits `{0%}` has: those of the number of jobs at once.
    slot_width: usize,
    /// What evaluates its `{= perl =}` strings, once started.
    perl: PerlLink,
}

/// A shared Perl process; templates are equal whatever runs their expressions.
#[derive(Clone, Default)]
struct PerlLink(Option<Arc<Mutex<Perl>>>);

impl std::fmt::Debug for PerlLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "perl" } else { "no perl" })
    }
}

impl PartialEq for PerlLink {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for PerlLink {}

/// What filling a template needs besides its pieces.
#[derive(Clone, Copy)]
struct Fill<'a> {
    args: &'a [String],
    seq: usize,
    quote: bool,
    total: Option<usize>,
    slot_width: usize,
    perl: Option<&'a Mutex<Perl>>,
    /// Set when a `{= perl =}` string called `skip()`.
    skip: &'a std::cell::Cell<bool>,
    /// What stands for the slot, with its width between two of these, instead of the
    /// shell's reference to it ([`Template::fill_parts`]).
    slot_marker: Option<&'a str>,
}

/// A replacement string of one's own (`--rpl 'TAG PERL'`): the tag, and the Perl
/// expression it stands for, which changes `$_` as a `{= perl =}` string does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserReplacement {
    pub tag: String,
    pub code: String,
}

impl UserReplacement {
    /// `TAG PERL`, split at the first white space, as GNU parallel splits it. A leading
    /// `1 ` of the expression (GNU parallel's mark for "once per job", which is how
    /// fanout evaluates every expression) is dropped.
    pub fn parse(text: &str) -> Result<UserReplacement, String> {
        let (tag, code) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        if tag.is_empty() {
            return Err(format!(
                "`--rpl {text}` names no replacement string: give 'TAG PERL', e.g. \
                 --rpl '{{..}} s:\\.[^.]+$::;s:\\.[^.]+$::;'"
            ));
        }
        let code = code.strip_prefix("1 ").unwrap_or(code);
        Ok(UserReplacement {
            tag: tag.to_owned(),
            code: code.to_owned(),
        })
    }
}

/// `text` with each replacement string of one's own written as the `{= perl =}` string it
/// stands for; a tag in braces also stands for input N when written `{N…}` (`{2..}` for
/// `{..}`). The longest tag wins where several start at one place; `text` is read once,
/// so what a tag becomes is not read again.
pub fn expand_user_replacements(text: &str, user: &[UserReplacement], parens: &Parens) -> String {
    if user.is_empty() {
        return text.to_owned();
    }
    let mut by_length: Vec<&UserReplacement> = user.iter().collect();
    by_length.sort_by_key(|r| std::cmp::Reverse(r.tag.len()));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while let Some(c) = rest.chars().next() {
        for r in &by_length {
            if rest.starts_with(r.tag.as_str()) {
                out.push_str(&format!("{} {} {}", parens.left, r.code, parens.right));
                rest = &rest[r.tag.len()..];
                continue 'scan;
            }
            // `{N…}`: the same for input N (`{-N…}`: the Nth last).
            if let Some(inner) = r.tag.strip_prefix('{').filter(|_| c == '{') {
                let sign = usize::from(rest[1..].starts_with('-'));
                let digits = rest[1 + sign..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                if digits > 0 && rest[1 + sign + digits..].starts_with(inner) {
                    let digits = sign + digits;
                    let n = &rest[1..1 + digits];
                    out.push_str(&format!("{}{n} {} {}", parens.left, r.code, parens.right));
                    rest = &rest[1 + digits + inner.len()..];
                    continue 'scan;
                }
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// How a slot number gets into a command: the slot is only known when the job starts, so
/// the command refers to the variable the runner sets in every job's environment.
pub const SLOT_REFERENCE: &str = "${FANOUT_SLOT}";

/// The start of every slot reference: `${FANOUT_SLOT}`, or `${FANOUT_SLOT_N}` for the
/// slot padded to N digits.
const SLOT_REFERENCE_START: &str = "${FANOUT_SLOT";

/// The variable holding the slot padded with zeros to `width` digits (`{0%}`).
fn padded_slot_name(width: usize) -> String {
    format!("FANOUT_SLOT_{width}")
}

fn padded_slot_reference(width: usize) -> String {
    if width > 1 {
        format!("${{{}}}", padded_slot_name(width))
    } else {
        SLOT_REFERENCE.to_owned()
    }
}

/// `text` (a filled command or tag) with the slot written in where it refers to it, as
/// GNU parallel shows `{%}` and `{0%}` in `-v`, tags, the job log and `--dry-run`.
pub fn with_slot(text: &str, slot: usize) -> std::borrow::Cow<'_, str> {
    if !text.contains(SLOT_REFERENCE_START) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(SLOT_REFERENCE_START) {
        out.push_str(&rest[..at]);
        let after = &rest[at + SLOT_REFERENCE_START.len()..];
        let width = after
            .strip_prefix('_')
            .map(|w| &w[..w.bytes().take_while(u8::is_ascii_digit).count()]);
        let (width, tail) = match width {
            None => (Some(1), after),
            Some(digits) => (digits.parse().ok(), &after[1 + digits.len()..]),
        };
        match (width, tail.strip_prefix('}')) {
            (Some(width), Some(tail)) => {
                out.push_str(&format!("{slot:0width$}"));
                rest = tail;
            }
            _ => {
                out.push_str(SLOT_REFERENCE_START);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.into()
}

/// How a command's words become a [`Template`].
#[derive(Clone, Debug, Default)]
pub struct TemplateOptions {
    /// Strings that stand for a replacement string instead of it, each with what is
    /// between the braces of the one it replaces: `-I STR` for `{}` (`""`), `--er` for
    /// `{.}`, `--bnr` for `{/}`, `--dnr` for `{//}`, `--bner` for `{/.}`, `--seqreplace`
    /// for `{#}`, `--slotreplace` for `{%}`. The one replaced is then plain text, and so
    /// are its forms for one input (`{1}` for `{}`), as in GNU parallel; the others keep
    /// their meaning. An empty string replaces nothing.
    pub renames: Vec<(String, &'static str)>,
    /// Quote the command's own words for the shell (`-q`), so it runs them as written.
    pub quote: bool,
    /// Column names and the positions they stand for (`--header :`): `{name}` is `{N}`,
    /// `{name.}` is `{N.}`, and so on.
    pub names: Vec<(String, usize)>,
    /// Never append the inputs to a command without replacement strings (`--pipe`: the
    /// input is on stdin).
    pub no_append: bool,
    /// Repeat each word holding `{}` (or `{.}` …) once per input (`-X`): `x{}y` with
    /// inputs `1 2` is `x1y x2y`.
    pub context: bool,
    /// `--plus`: its replacement strings too.
    pub plus: bool,
    /// What Perl strings are between (`--parens`), in place of `{=` and `=}`.
    pub parens: Parens,
}

/// The left and right of a `{= perl =}` string: `{=` and `=}` unless `--parens` says
/// otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parens {
    pub left: String,
    pub right: String,
}

impl Default for Parens {
    fn default() -> Self {
        Parens {
            left: "{=".to_owned(),
            right: "=}".to_owned(),
        }
    }
}

impl Parens {
    /// `--parens TEXT`, as GNU parallel splits it: its first half is the left, the rest
    /// the right (`,,,,`: `,,` and `,,`).
    pub fn parse(text: &str) -> Result<Parens, String> {
        let half = text.chars().count() / 2;
        if half == 0 {
            return Err(format!(
                "`--parens {text}`: give the left and the right together, as `{{==}}` is `{{=` and `=}}`"
            ));
        }
        let split = text
            .char_indices()
            .nth(half)
            .map_or(text.len(), |(at, _)| at);
        Ok(Parens {
            left: text[..split].to_owned(),
            right: text[split..].to_owned(),
        })
    }

    /// Whether `text` leaves a Perl string open: a left is left over after its Perl
    /// strings (the left and the right may be the same, as with `--parens ,,,,`).
    fn opens(&self, text: &str) -> bool {
        let mut rest = text;
        while let Some((_, _, end)) = self.find(rest) {
            rest = &rest[end..];
        }
        rest.contains(&self.left)
    }

    /// `words` with those a Perl string spans joined into one, with spaces (`echo {= s/a/b/
    /// =}` is five words to the shell): GNU parallel joins a command's words before it
    /// looks for replacement strings. A string never closed leaves its words as they are.
    fn join_spanned(&self, words: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(words.len());
        let mut i = 0;
        while i < words.len() {
            let mut word = words[i].clone();
            i += 1;
            if self.opens(&word) {
                let mut joined = word.clone();
                for (k, next) in words.iter().enumerate().skip(i) {
                    joined.push(' ');
                    joined.push_str(next);
                    if !self.opens(&joined) {
                        word = joined;
                        i = k + 1;
                        break;
                    }
                }
            }
            out.push(word);
        }
        out
    }

    /// The first Perl string in `text`, as GNU parallel finds it: a left, then the
    /// shortest text in which neither a left nor a right starts, then a right. Where it
    /// starts, its code, and where it ends.
    fn find<'t>(&self, text: &'t str) -> Option<(usize, &'t str, usize)> {
        let mut from = 0;
        while let Some(at) = text[from..].find(&self.left).map(|i| i + from) {
            let inner = at + self.left.len();
            let end = inner + text[inner..].find(&self.right)?;
            // No left starts in the code, not even one that runs on into the right.
            if text[inner..]
                .find(&self.left)
                .is_none_or(|left| inner + left >= end)
            {
                return Some((at, &text[inner..end], end + self.right.len()));
            }
            from = at + self.left.chars().next().map_or(1, char::len_utf8);
        }
        None
    }
}

impl Template {
    /// Parses `command`. A command without any replacement string gets ` {}` appended (the
    /// inputs as further arguments), as in GNU parallel.
    pub fn parse(command: &str) -> Template {
        Template::from_words(&[command.to_owned()], &TemplateOptions::default())
    }

    /// Parses a command given as words, joined with spaces (GNU parallel's way), with
    /// `options`. Without any replacement string, the inputs are appended.
    pub fn from_words(words: &[String], options: &TemplateOptions) -> Template {
        let words = options.parens.join_spanned(words);
        let mut pieces = Vec::new();
        for (i, word) in words.iter().enumerate() {
            if i > 0 {
                push_text(&mut pieces, " ");
            }
            let found = scan(word, options);
            let text_only = found.iter().all(|p| matches!(p, Piece::Text(_)));
            if options.context && found.iter().any(every_input) {
                // With -q, the runs repeat inside the word, which is then quoted whole.
                let runs = in_context(found);
                if options.quote {
                    pieces.push(Piece::Word(runs));
                } else {
                    push_pieces(&mut pieces, runs);
                }
            } else if options.quote && text_only {
                push_text(&mut pieces, &shell_quote(word));
            } else if options.quote
                && !found.contains(&Piece::Slot)
                && !found.contains(&Piece::PaddedSlot)
            {
                pieces.push(Piece::Word(found));
            } else {
                // The slot is a variable the shell expands, so a quoted word that holds it
                // is quoted piece by piece, around the reference.
                for piece in found {
                    match piece {
                        Piece::Text(text) if options.quote => {
                            push_text(&mut pieces, &shell_quote(&text));
                        }
                        Piece::Text(text) => push_text(&mut pieces, &text),
                        other => pieces.push(other),
                    }
                }
            }
        }
        if !options.no_append && pieces.iter().all(|p| matches!(p, Piece::Text(_))) {
            if !pieces.is_empty() {
                push_text(&mut pieces, " ");
            }
            pieces.push(Piece::Input {
                arg: None,
                transform: Transform::Whole,
            });
        }
        Template {
            pieces,
            total: None,
            slot_width: 1,
            perl: PerlLink::default(),
        }
    }

    /// A text with replacement strings and nothing appended (`--tagstring`); with
    /// `options.context`, each run without white space that holds `{}` repeats once per
    /// input, as a command's words do.
    pub fn text(text: &str, options: &TemplateOptions) -> Template {
        let found = scan(text, options);
        let pieces = match options.context && found.iter().any(every_input) {
            true => in_context(found),
            false => found,
        };
        Template {
            pieces,
            total: None,
            slot_width: 1,
            perl: PerlLink::default(),
        }
    }

    /// A template that runs each input itself as the command (GNU parallel with no command).
    pub fn inputs_as_commands() -> Template {
        Template {
            pieces: vec![Piece::Input {
                arg: None,
                transform: Transform::Whole,
            }],
            total: None,
            slot_width: 1,
            perl: PerlLink::default(),
        }
    }

    /// Whether it is only text, with no replacement string in it.
    pub fn is_plain(&self) -> bool {
        self.pieces.iter().all(|p| matches!(p, Piece::Text(_)))
    }

    /// How many places every input goes to (`{}`, `{.}` … and `-X`'s words, not `{N}`):
    /// the spaces one more input adds to a filled line.
    pub fn input_places(&self) -> usize {
        fn count(pieces: &[Piece]) -> usize {
            pieces
                .iter()
                .map(|p| match p {
                    Piece::Input { arg: None, .. } | Piece::Skip { arg: None, .. } => 1,
                    Piece::Context(_) => 1,
                    Piece::Word(inner) => count(inner),
                    _ => 0,
                })
                .sum()
        }
        count(&self.pieces)
    }

    /// Whether the command needs to know how many jobs there are (`{##}`, `{0#}`).
    pub fn uses_total(&self) -> bool {
        fn any_total(pieces: &[Piece]) -> bool {
            pieces.iter().any(|p| match p {
                Piece::Total | Piece::PaddedSeq => true,
                Piece::Perl { code, .. } => code.contains("total_jobs"),
                Piece::Word(inner) | Piece::Context(inner) => any_total(inner),
                _ => false,
            })
        }
        any_total(&self.pieces)
    }

    /// There are `total` jobs.
    pub fn set_total(&mut self, total: usize) {
        self.total = Some(total);
    }

    /// At most `jobs` jobs run at once, which sets the width of `{0%}`.
    pub fn set_slot_width(&mut self, jobs: usize) {
        self.slot_width = jobs.max(1).to_string().len();
    }

    /// The variable holding the padded slot that jobs' commands refer to, if they do
    /// (`{0%}` when it is wider than one digit): the runner sets it for each job.
    pub fn padded_slot_variable(&self) -> Option<(String, usize)> {
        fn any_padded(pieces: &[Piece]) -> bool {
            pieces.iter().any(|p| match p {
                Piece::PaddedSlot => true,
                Piece::Word(inner) | Piece::Context(inner) => any_padded(inner),
                _ => false,
            })
        }
        (self.slot_width > 1 && any_padded(&self.pieces))
            .then(|| (padded_slot_name(self.slot_width), self.slot_width))
    }

    /// Whether a job with inputs `args` is skipped (`{uniq}`, `{choose_k}`).
    pub fn skips(&self, args: &[String]) -> bool {
        fn any_skip(pieces: &[Piece], args: &[String]) -> bool {
            pieces.iter().any(|p| match p {
                Piece::Skip { rule, .. } => !rule.passes(args),
                Piece::Word(inner) | Piece::Context(inner) => any_skip(inner, args),
                _ => false,
            })
        }
        any_skip(&self.pieces, args)
    }

    /// Whether the command refers to the slot (`{%}`).
    pub fn uses_slot(&self) -> bool {
        fn any_slot(pieces: &[Piece]) -> bool {
            pieces.iter().any(|p| match p {
                Piece::Slot | Piece::PaddedSlot => true,
                Piece::Word(inner) | Piece::Context(inner) => any_slot(inner),
                _ => false,
            })
        }
        any_slot(&self.pieces)
    }

    /// The command line of job `seq` (1-based) with inputs `args`. With `quote`, each
    /// value is quoted for the shell; without, values go in as they are (the inputs are
    /// themselves commands).
    pub fn fill(&self, args: &[String], seq: usize, quote: bool) -> String {
        self.fill_job(args, seq, quote).0
    }

    /// [`Template::fill`], and whether a `{= perl =}` string skipped the job.
    pub fn fill_job(&self, args: &[String], seq: usize, quote: bool) -> (String, bool) {
        self.fill_with(args, seq, quote, None)
    }

    /// The text of job `seq` (with inputs `args`, unquoted) in parts, the slot a part of
    /// its own: for text that is written before the job starts, not given to a shell
    /// (`--template`).
    pub fn fill_parts(&self, args: &[String], seq: usize) -> Vec<FilePart> {
        static MARKER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let marker =
            MARKER.get_or_init(|| format!("\u{0}fanout-slot-{:016x}\u{0}", rand::random::<u64>()));
        let (text, _) = self.fill_with(args, seq, false, Some(marker));
        text.split(marker.as_str())
            .enumerate()
            .filter(|(_, part)| !part.is_empty())
            .map(|(i, part)| match i % 2 {
                0 => FilePart::Text(part.to_owned()),
                _ => FilePart::Slot {
                    width: part.parse().unwrap_or(1),
                },
            })
            .collect()
    }

    /// The filled text, and whether a `{= perl =}` string skipped the job.
    fn fill_with(
        &self,
        args: &[String],
        seq: usize,
        quote: bool,
        slot_marker: Option<&str>,
    ) -> (String, bool) {
        let skip = std::cell::Cell::new(false);
        let fill = Fill {
            args,
            seq,
            quote,
            total: self.total,
            slot_width: self.slot_width,
            perl: self.perl.0.as_deref(),
            skip: &skip,
            slot_marker,
        };
        let text = fill_pieces(&self.pieces, &fill);
        (text, skip.get())
    }

    /// The `{= perl =}` expressions of the command.
    fn perl_codes(&self) -> Vec<&str> {
        fn codes<'p>(pieces: &'p [Piece], found: &mut Vec<&'p str>) {
            for piece in pieces {
                match piece {
                    Piece::Perl { code, .. } => found.push(code),
                    Piece::Word(inner) | Piece::Context(inner) => codes(inner, found),
                    _ => {}
                }
            }
        }
        let mut found = Vec::new();
        codes(&self.pieces, &mut found);
        found
    }

    /// Starts Perl for the command's `{= perl =}` strings, if it has any, compiling each;
    /// an error says which does not compile, or that perl is missing.
    pub fn start_perl(&mut self) -> Result<(), String> {
        let codes = self.perl_codes();
        if !codes.is_empty() {
            let perl = Perl::start(&codes)?;
            self.perl = PerlLink(Some(Arc::new(Mutex::new(perl))));
        }
        Ok(())
    }
}

fn fill_pieces(pieces: &[Piece], fill: &Fill<'_>) -> String {
    let &Fill {
        args,
        seq,
        quote,
        total,
        slot_width,
        ..
    } = fill;
    let mut out = String::new();
    let word = |value: String| if quote { shell_quote(&value) } else { value };
    let input = |out: &mut String, arg: Option<isize>, transform: &Transform| match arg {
        None => {
            let words: Vec<String> = args.iter().map(|a| word(transform.apply(a))).collect();
            out.push_str(&words.join(" "));
        }
        // An input that does not exist is nothing at all, not an empty word.
        Some(n) => {
            if let Some(value) = position(n, args.len()).map(|i| &args[i - 1]) {
                out.push_str(&word(transform.apply(value)));
            }
        }
    };
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Input { arg, transform } => input(&mut out, *arg, transform),
            // `{uniq}` and `{choose_k}` are `{}` (or `{N}`) in the command.
            Piece::Skip { arg, .. } => input(&mut out, *arg, &Transform::Whole),
            Piece::Seq => out.push_str(&seq.to_string()),
            Piece::Total => out.push_str(&total.unwrap_or(0).to_string()),
            Piece::PaddedSeq => {
                let width = total.unwrap_or(0).max(1).to_string().len();
                out.push_str(&format!("{seq:0width$}"));
            }
            Piece::Slot | Piece::PaddedSlot if fill.slot_marker.is_some() => {
                let marker = fill.slot_marker.unwrap_or_default();
                let width = if *piece == Piece::Slot { 1 } else { slot_width };
                out.push_str(&format!("{marker}{width}{marker}"));
            }
            Piece::Slot => out.push_str(SLOT_REFERENCE),
            Piece::PaddedSlot => out.push_str(&padded_slot_reference(slot_width)),
            Piece::Perl { arg, code } => {
                let which: Vec<usize> = match arg {
                    None => (1..=args.len()).collect(),
                    Some(n) => position(*n, args.len()).into_iter().collect(),
                };
                let words: Vec<String> = which
                    .into_iter()
                    .map(|n| perl_value(fill, code, n))
                    .collect();
                out.push_str(&words.join(" "));
            }
            Piece::Word(inner) => {
                let unquoted = Fill {
                    quote: false,
                    ..*fill
                };
                out.push_str(&shell_quote(&fill_pieces(inner, &unquoted)));
            }
            // With no inputs (`-N 0`), the word once, `{}` in it empty.
            Piece::Context(inner) if args.is_empty() => out.push_str(&fill_pieces(inner, fill)),
            Piece::Context(inner) => {
                let words: Vec<String> = (1..=args.len())
                    .map(|n| fill_pieces(&pinned(inner, n), fill))
                    .collect();
                out.push_str(&words.join(" "));
            }
        }
    }
    out
}

/// `pieces` with input `n` standing for every input (`{}` is `{n}`), as a word of `-X`
/// repeated for its `n`th input: `{2}` in it still stands for the job's second input.
fn pinned(pieces: &[Piece], n: usize) -> Vec<Piece> {
    let arg = Some(n as isize);
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Input {
                arg: None,
                transform,
            } => Piece::Input {
                arg,
                transform: transform.clone(),
            },
            Piece::Skip { rule, arg: None } => Piece::Skip { rule: *rule, arg },
            Piece::Perl { arg: None, code } => Piece::Perl {
                arg,
                code: code.clone(),
            },
            Piece::Word(inner) => Piece::Word(pinned(inner, n)),
            Piece::Context(inner) => Piece::Context(pinned(inner, n)),
            other => other.clone(),
        })
        .collect()
}

/// Which of `count` inputs (from 1) `arg` is: itself, or counted from the last when
/// negative (`{-1}`, going round once more as GNU parallel does); none when there is no
/// such input.
fn position(arg: isize, count: usize) -> Option<usize> {
    // Back from the last, GNU parallel goes round the inputs once more: of three, -4 is
    // the last again and -6 the first; -7 is none.
    if arg < 0 && arg.unsigned_abs() <= 2 * count {
        let count = count as isize;
        return Some(((count + arg).rem_euclid(count) + 1) as usize);
    }
    let index = arg.unsigned_abs();
    (arg > 0 && index <= count).then_some(index)
}

/// What `code` makes of input `which` of the job, quoted unless it called `uq()`. Without
/// Perl, or should Perl fail, the input as it is.
fn perl_value(fill: &Fill<'_>, code: &str, which: usize) -> String {
    let value = fill.args[which - 1].clone();
    let evaluated = fill.perl.and_then(|perl| {
        let mut perl = perl
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let total = fill.total.unwrap_or(0);
        perl.eval(code, fill.args, which, fill.seq, total).ok()
    });
    let Some(evaluated) = evaluated else {
        return if fill.quote {
            shell_quote(&value)
        } else {
            value
        };
    };
    if let Some(error) = &evaluated.error {
        // Not a command to run: the job is skipped, and the user told why.
        crate::bytes::eprint(&format!(
            "fanout map: `{{={code}=}}` died for job {}, which is skipped: {error}\n",
            fill.seq
        ));
        fill.skip.set(true);
    }
    if evaluated.skip {
        fill.skip.set(true);
    }
    if fill.quote && !evaluated.unquoted {
        shell_quote(&evaluated.value)
    } else {
        evaluated.value
    }
}

/// `pieces` with what repeats in context marked: each run without white space that holds
/// `{}`, as in GNU parallel (`'echo {}'` is `echo 1 2`).
fn in_context(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut runs = Vec::new();
    for run in split_at_spaces(pieces) {
        if run.iter().any(every_input) {
            runs.push(Piece::Context(run));
        } else {
            push_pieces(&mut runs, run);
        }
    }
    runs
}

/// Whether `piece` stands for every input (`{}`, `{= =}` and `{uniq}` without a number):
/// what repeats in context.
fn every_input(piece: &Piece) -> bool {
    matches!(
        piece,
        Piece::Input { arg: None, .. }
            | Piece::Perl { arg: None, .. }
            | Piece::Skip { arg: None, .. }
    )
}

/// `pieces` in runs: those without white space, and the white space between them.
fn split_at_spaces(pieces: Vec<Piece>) -> Vec<Vec<Piece>> {
    let mut runs: Vec<Vec<Piece>> = vec![Vec::new()];
    let mut in_space = false;
    for piece in pieces {
        let mut start_run = |runs: &mut Vec<Vec<Piece>>, space: bool| {
            if space != in_space && runs.last().is_some_and(|run| !run.is_empty()) {
                runs.push(Vec::new());
            }
            in_space = space;
        };
        match piece {
            Piece::Text(text) => {
                for c in text.chars() {
                    start_run(&mut runs, c.is_whitespace());
                    let run = runs.last_mut().expect("a run");
                    push_text(run, c.encode_utf8(&mut [0; 4]));
                }
            }
            other => {
                start_run(&mut runs, false);
                runs.last_mut().expect("a run").push(other);
            }
        }
    }
    runs
}

/// Appends `text`, to the text piece before it if there is one.
/// `more` after `pieces`, text joined to text.
fn push_pieces(pieces: &mut Vec<Piece>, more: Vec<Piece>) {
    for piece in more {
        match piece {
            Piece::Text(text) => push_text(pieces, &text),
            other => pieces.push(other),
        }
    }
}

fn push_text(pieces: &mut Vec<Piece>, text: &str) {
    if text.is_empty() {
        return;
    }
    match pieces.last_mut() {
        Some(Piece::Text(last)) => last.push_str(text),
        _ => pieces.push(Piece::Text(text.to_owned())),
    }
}

/// The pieces of one word or command: text, and the replacement strings in it. With
/// `replace` (`-I STR`), STR is the whole input and `{}` is text.
fn scan(command: &str, options: &TemplateOptions) -> Vec<Piece> {
    let renames: Vec<&(String, &str)> = options
        .renames
        .iter()
        .filter(|(text, _)| !text.is_empty())
        .collect();
    let mut pieces = Vec::new();
    let mut rest = command;
    loop {
        let brace = rest.find('{');
        let perl = options
            .parens
            .find(rest)
            .filter(|(at, ..)| brace.is_none_or(|b| *at <= b));
        // The first string of one's own, the longest where several start there.
        let custom = renames
            .iter()
            .filter_map(|(text, stands_for)| {
                let at = rest.find(text.as_str())?;
                Some((at, text.len(), replacement(stands_for, options.plus)?))
            })
            .min_by_key(|(at, len, _)| (*at, std::cmp::Reverse(*len)))
            .filter(|(at, ..)| brace.is_none_or(|b| *at <= b))
            .filter(|(at, ..)| perl.is_none_or(|(p, ..)| *at <= p));
        match (brace, custom) {
            (_, Some((at, len, piece))) => {
                push_text(&mut pieces, &rest[..at]);
                pieces.push(piece);
                rest = &rest[at + len..];
            }
            (_, None) if let Some((open, inner, end)) = perl => {
                // `{= perl =}`, or `{=N perl =}` for input N (`{=-N perl =}`: the Nth last).
                push_text(&mut pieces, &rest[..open]);
                let (arg, code) = split_position(inner);
                pieces.push(Piece::Perl {
                    arg: arg.filter(|n| *n != 0),
                    code: code.to_owned(),
                });
                rest = &rest[end..];
            }
            (Some(open), _) => {
                push_text(&mut pieces, &rest[..open]);
                let after = &rest[open..];
                let found = after.find('}').and_then(|close| {
                    let inner = &after[1..close];
                    let op = inner.trim_start_matches(|c: char| c.is_ascii_digit());
                    let taken = renames.iter().any(|(_, stands_for)| {
                        inner == *stands_for
                            || (!matches!(*stands_for, "#" | "%") && op == *stands_for)
                    });
                    (!taken)
                        .then(|| {
                            replacement(inner, options.plus)
                                .or_else(|| named(inner, &options.names, options.plus))
                        })
                        .flatten()
                        .map(|piece| (piece, close))
                });
                match found {
                    Some((piece, close)) => {
                        pieces.push(piece);
                        rest = &after[close + 1..];
                    }
                    None => {
                        push_text(&mut pieces, "{");
                        rest = &after[1..];
                    }
                }
            }
            (None, None) => break,
        }
    }
    if !rest.is_empty() {
        push_text(&mut pieces, rest);
    }
    pieces
}

/// The piece a `{…}` stands for, given what is between the braces.
fn replacement(inner: &str, plus: bool) -> Option<Piece> {
    match (inner, plus) {
        ("#", _) => return Some(Piece::Seq),
        ("%" | "slot", _) if inner == "%" || plus => return Some(Piece::Slot),
        ("##", true) => return Some(Piece::Total),
        ("0#", true) => return Some(Piece::PaddedSeq),
        ("0%", true) => return Some(Piece::PaddedSlot),
        _ => {}
    }
    let (number, op) = split_position(inner);
    // `{N#}` and `{N%}`: as GNU parallel reads a position before `#` or `%`, 0 (all the
    // inputs) gives the job's number or slot, any other position nothing.
    match (number, op) {
        (Some(0), "#") => return Some(Piece::Seq),
        (Some(0), "%") => return Some(Piece::Slot),
        (Some(_), "#" | "%") => return Some(Piece::Text(String::new())),
        _ => {}
    }
    let rule = match op {
        "uniq" if plus => Some(SkipRule::Unique),
        "choose_k" if plus => Some(SkipRule::Increasing),
        _ => None,
    };
    let transform = match op {
        _ if rule.is_some() => Transform::Whole,
        "" => Transform::Whole,
        "." => Transform::NoExtension,
        "/" => Transform::Basename,
        "//" => Transform::Dirname,
        "/." => Transform::BasenameNoExtension,
        _ if plus => Transform::Plus(plus_op(op)?),
        _ => return None,
    };
    // Position 0 is all the inputs, as `{}` is (`{0.}` is `{.}`).
    let arg = number.filter(|n| *n != 0);
    Some(match rule {
        Some(rule) => Piece::Skip { rule, arg },
        None => Piece::Input { arg, transform },
    })
}

/// A position at the start of `inner` (`2` in `{2.}`, `-1` in `{-1}`), and the rest. A
/// position too large to be one is none, and stays in the rest.
fn split_position(inner: &str) -> (Option<isize>, &str) {
    let sign = usize::from(inner.starts_with('-'));
    let digits = inner[sign..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return (None, inner);
    }
    match inner[..sign + digits].parse::<isize>() {
        Ok(n) => (Some(n), &inner[sign + digits..]),
        Err(_) => (None, inner),
    }
}

/// A column's name with an optional transform after it (`{name}`, `{name/.}`); the
/// longest name that fits wins.
fn named(inner: &str, names: &[(String, usize)], plus: bool) -> Option<Piece> {
    names
        .iter()
        .filter_map(|(name, position)| {
            let op = inner.strip_prefix(name.as_str())?;
            let Some(Piece::Input {
                arg: None,
                transform,
            }) = replacement(op, plus)
            else {
                return None;
            };
            Some((name.len(), *position, transform))
        })
        .max_by_key(|(len, ..)| *len)
        .map(|(_, position, transform)| Piece::Input {
            arg: Some(position as isize),
            transform,
        })
}

/// `s:\.[^/.]*$::`
fn strip_extension(value: &str) -> &str {
    match value.rfind('.') {
        Some(dot) if !value[dot + 1..].contains('/') => &value[..dot],
        _ => value,
    }
}

/// `s:.*/::`
fn basename(value: &str) -> &str {
    value.rsplit_once('/').map_or(value, |(_, base)| base)
}

/// Perl's `File::Basename::dirname` on Unix.
fn dirname(value: &str) -> String {
    let trimmed = value.trim_end_matches('/');
    if trimmed.is_empty() {
        return if value.is_empty() { "." } else { "/" }.into();
    }
    match trimmed.rfind('/') {
        None => ".".into(),
        Some(slash) => {
            let dir = trimmed[..slash].trim_end_matches('/');
            if dir.is_empty() { "/" } else { dir }.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_match_gnu_parallel() {
        // (input, {.}, {/}, {//}, {/.}) as GNU parallel 20221122 prints them.
        let cases = [
            (".bashrc", "", ".bashrc", ".", ""),
            ("a.tar.gz", "a.tar", "a.tar.gz", ".", "a.tar"),
            ("dir.x/file", "dir.x/file", "file", "dir.x", "file"),
            ("a.", "a", "a.", ".", "a"),
            ("/a", "/a", "a", "/", "a"),
            ("a/b/", "a/b/", "", "a", ""),
            ("/", "/", "", "/", ""),
            ("x/.y", "x/", ".y", "x", ""),
            ("", "", "", ".", ""),
            ("a//b", "a//b", "b", "a", "b"),
        ];
        for (input, no_ext, base, dir, base_no_ext) in cases {
            assert_eq!(Transform::NoExtension.apply(input), no_ext, "{{.}} {input}");
            assert_eq!(Transform::Basename.apply(input), base, "{{/}} {input}");
            assert_eq!(Transform::Dirname.apply(input), dir, "{{//}} {input}");
            assert_eq!(
                Transform::BasenameNoExtension.apply(input),
                base_no_ext,
                "{{/.}} {input}"
            );
        }
    }

    #[test]
    fn commands_are_filled_with_quoted_inputs() {
        let args = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        // (command, inputs, seq, expected command line)
        let cases = [
            ("echo", args(&["a b"]), 1, "echo 'a b'"),
            ("echo", args(&["a", "b c"]), 1, "echo a 'b c'"),
            ("echo {}", args(&["x"]), 1, "echo x"),
            ("echo {} {}", args(&["x", "y"]), 1, "echo x y x y"),
            ("echo {2} {1}", args(&["x", "y"]), 1, "echo y x"),
            ("echo {3}", args(&["x"]), 1, "echo "),
            ("cp {} {.}.bak", args(&["d/f.txt"]), 1, "cp d/f.txt d/f.bak"),
            ("echo {1/.}-{2//}", args(&["a/b.c", "d/e"]), 1, "echo b-d"),
            ("echo {#}:{}", args(&["$HOME"]), 7, "echo 7:'$HOME'"),
            ("echo {%}", args(&["a"]), 1, "echo ${FANOUT_SLOT}"),
            (
                "echo ${HOME} {a,b} {x}",
                args(&["1"]),
                1,
                "echo ${HOME} {a,b} {x} 1",
            ),
            ("echo '{}'", args(&["it's"]), 1, r#"echo ''it'"'"'s''"#),
            ("true", args(&[""]), 1, "true ''"),
        ];
        for (command, inputs, seq, expected) in cases {
            let template = Template::parse(command);
            assert_eq!(template.fill(&inputs, seq, true), expected, "{command}");
        }
        assert!(Template::parse("echo {%}").uses_slot());
        let slotted = Template::parse("echo {%} '{%}'").fill(&args(&["a"]), 1, true);
        assert_eq!(with_slot(&slotted, 3), "echo 3 '3'");
        assert_eq!(with_slot("echo $X", 3), "echo $X");
        assert_eq!(Template::parse("").fill(&args(&["a"]), 1, true), "a");
        assert!(!Template::parse("echo {}").uses_slot());
        assert_eq!(
            Template::inputs_as_commands().fill(&args(&["echo a; echo b"]), 1, false),
            "echo a; echo b"
        );
    }

    #[test]
    fn replacement_strings_of_ones_own_become_perl_strings() {
        let rpl = |text: &str| UserReplacement::parse(text).unwrap();
        let user = [
            rpl("{..} s:\\.[^.]+$::;s:\\.[^.]+$::;"),
            rpl("{.} s/a/X/"),
            rpl("%% 1 $_=\"pct\""),
        ];
        assert_eq!(
            expand_user_replacements("echo {..} {2..} {.} %% {}", &user, &Parens::default()),
            "echo {= s:\\.[^.]+$::;s:\\.[^.]+$::; =} {=2 s:\\.[^.]+$::;s:\\.[^.]+$::; =} \
             {= s/a/X/ =} {= $_=\"pct\" =} {}"
        );
        assert_eq!(
            UserReplacement::parse("{} ").unwrap(),
            UserReplacement {
                tag: "{}".into(),
                code: String::new()
            }
        );
        assert!(UserReplacement::parse(" x").is_err());
    }

    #[test]
    fn another_string_can_stand_for_the_input() {
        let args = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let options = |replace: &str| TemplateOptions {
            renames: vec![(replace.to_owned(), "")],
            ..TemplateOptions::default()
        };
        // (-I, command, inputs, expected) as GNU parallel 20221122 fills them.
        let cases = [
            (",,", "echo ,,x", args(&["a"]), "echo ax"),
            ("@", "echo @ {.} {}", args(&["x.y"]), "echo x.y x {}"),
            ("aa", "echo aaa", args(&["X"]), "echo Xa"),
            ("{x}", "echo {x} {}", args(&["a b"]), "echo 'a b' {}"),
            ("{}", "echo {}", args(&["a"]), "echo a"),
            ("@", "echo", args(&["a"]), "echo a"),
            ("XX", "echo XX {1} {1.}", args(&["a.b"]), "echo a.b {1} a"),
        ];
        for (replace, command, inputs, expected) in cases {
            let template = Template::from_words(&[command.to_owned()], &options(replace));
            assert_eq!(
                template.fill(&inputs, 1, true),
                expected,
                "-I {replace} {command}"
            );
        }
    }

    #[test]
    fn context_words_repeat_once_per_input() {
        let args = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let context = TemplateOptions {
            context: true,
            ..TemplateOptions::default()
        };
        let template = |words: &[&str]| Template::from_words(&args(words), &context);
        // (words, inputs, expected) as GNU parallel 20221122 fills them with -X.
        let cases = [
            (&["echo", "x{}y"][..], &["1", "2"][..], "echo x1y x2y"),
            (
                &["echo", "{#}-{}-{.}"],
                &["a.b", "c.d"],
                "echo 1-a.b-a 1-c.d-c",
            ),
            (&["echo"], &["a b", "c"], "echo 'a b' c"),
            (
                &["cp", "{}", "dir/{/}"],
                &["p/a", "q/b"],
                "cp p/a q/b dir/a dir/b",
            ),
            (&["echo", "<{}>"], &["it's"], "echo <'it'\"'\"'s'>"),
        ];
        for (words, inputs, expected) in cases {
            assert_eq!(
                template(words).fill(&args(inputs), 1, true),
                expected,
                "{words:?}"
            );
        }
        assert!(template(&["echo", "{}{%}"]).uses_slot());
    }

    #[test]
    fn positions_count_from_the_first_input_or_back_from_the_last() {
        assert_eq!(split_position("2."), (Some(2), "."));
        assert_eq!(split_position("-1//"), (Some(-1), "//"));
        assert_eq!(split_position("-"), (None, "-"));
        assert_eq!(
            split_position("99999999999999999999"),
            (None, "99999999999999999999")
        );
        assert_eq!(position(1, 2), Some(1));
        assert_eq!(position(-1, 2), Some(2));
        assert_eq!(position(-2, 2), Some(1));
        assert_eq!(position(-3, 2), Some(2));
        assert_eq!(position(-4, 2), Some(1));
        assert_eq!(position(-5, 2), None);
        assert_eq!(position(-1, 0), None);
        assert_eq!(position(0, 2), None);
        assert_eq!(position(3, 2), None);
        assert_eq!(position(isize::MIN, 2), None);
        let values = ["a.x".to_owned(), "b/y".to_owned()];
        assert_eq!(
            Template::parse("echo {-1} {-2.} {-3} {-5}").fill(&values, 1, true),
            "echo b/y a b/y "
        );
    }

    #[test]
    fn perl_strings_are_found_as_gnu_parallel_finds_them() {
        let parens = Parens::default();
        let find = |text: &str| {
            parens
                .find(text)
                .map(|(at, code, end)| (at, code.to_owned(), end))
        };
        assert_eq!(find("a{= s/x/y/ =}b"), Some((1, " s/x/y/ ".to_owned(), 13)));
        // A left with no right after it, or a right that closes nothing, is text.
        assert_eq!(find("{=}"), None);
        assert_eq!(find("a{="), None);
        // The code holds no left: the string starts at the last left before the right.
        assert_eq!(find("{=}{=1 =}"), Some((3, "1 ".to_owned(), 9)));
        assert_eq!(find("{==}"), Some((0, String::new(), 4)));
        assert_eq!(find("{= {=}{=1 =}"), Some((6, "1 ".to_owned(), 12)));
        let words = |v: &[&str]| v.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            parens.join_spanned(&words(&["echo", "{=", "s/a/b/", "=}", "{}"])),
            words(&["echo", "{= s/a/b/ =}", "{}"])
        );
        assert_eq!(
            parens.join_spanned(&words(&["echo", "a{=", "b"])),
            words(&["echo", "a{=", "b"])
        );
        let commas = Parens::parse(",,,,").unwrap();
        assert_eq!(
            commas.join_spanned(&words(&["echo", ",,", "s/a/b/", ",,", "x"])),
            words(&["echo", ",, s/a/b/ ,,", "x"])
        );
        // `{=}` alone is text, not an error (it once ended fanout with a panic).
        assert_eq!(
            Template::parse("echo {=}").fill(&["a".to_owned()], 1, true),
            "echo {=} a"
        );
    }

    #[test]
    fn parens_split_their_text_in_half() {
        let split = |text: &str| Parens::parse(text).map(|p| (p.left, p.right));
        assert_eq!(split("{==}"), Ok(("{=".to_owned(), "=}".to_owned())));
        assert_eq!(split(",,,,"), Ok((",,".to_owned(), ",,".to_owned())));
        assert_eq!(split("abc"), Ok(("a".to_owned(), "bc".to_owned())));
        assert_eq!(split("«»"), Ok(("«".to_owned(), "»".to_owned())));
        assert!(split("x").unwrap_err().contains("`--parens x`"));
        let options = TemplateOptions {
            parens: Parens::parse(",,,,").unwrap(),
            ..TemplateOptions::default()
        };
        let template =
            Template::from_words(&["echo".to_owned(), ",,1 s/a/b/,,".to_owned()], &options);
        assert_eq!(template.perl_codes(), [" s/a/b/"]);
    }

    #[test]
    fn padded_slots_are_as_wide_as_the_number_of_jobs() {
        let plus = TemplateOptions {
            plus: true,
            ..TemplateOptions::default()
        };
        let words = vec!["echo".to_owned(), "{0%}/{%}".to_owned()];
        let mut template = Template::from_words(&words, &plus);
        assert!(template.uses_slot());
        // One digit of jobs: the slot itself, and no variable of its own.
        template.set_slot_width(9);
        assert_eq!(template.padded_slot_variable(), None);
        let filled = template.fill(&["a".to_owned()], 1, true);
        assert_eq!(with_slot(&filled, 7), "echo 7/7");
        template.set_slot_width(120);
        assert_eq!(
            template.padded_slot_variable(),
            Some(("FANOUT_SLOT_3".to_owned(), 3))
        );
        let filled = template.fill(&["a".to_owned()], 1, true);
        assert_eq!(filled, "echo ${FANOUT_SLOT_3}/${FANOUT_SLOT}");
        assert_eq!(with_slot(&filled, 7), "echo 007/7");
        assert_eq!(with_slot(&filled, 1234), "echo 1234/1234");
        // Text that only looks like a reference stays as it is.
        assert_eq!(
            with_slot("${FANOUT_SLOT_x} ${FANOUT_SLOT", 2),
            "${FANOUT_SLOT_x} ${FANOUT_SLOT"
        );
        // Without --plus, `{0%}` is the slot as it is.
        let plain = Template::from_words(&words, &TemplateOptions::default());
        assert_eq!(plain.padded_slot_variable(), None);
    }

    #[test]
    fn quoted_commands_keep_their_words() {
        let words = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let quoted = TemplateOptions {
            quote: true,
            ..TemplateOptions::default()
        };
        // (words, inputs, expected)
        let cases = [
            (
                words(&["echo", "$x", "{}"]),
                words(&["y z"]),
                "echo '$x' 'y z'",
            ),
            (
                words(&["echo", "x {} y"]),
                words(&["a b"]),
                "echo 'x a b y'",
            ),
            (
                words(&["echo", "{}"]),
                words(&["it's"]),
                r#"echo 'it'"'"'s'"#,
            ),
            (
                words(&["echo", "<{%}>"]),
                words(&["a"]),
                "echo '<'${FANOUT_SLOT}'>'",
            ),
            (
                words(&["printf", "%s|\n"]),
                words(&["a"]),
                "printf '%s|\n' a",
            ),
            (words(&["echo", ""]), words(&["a"]), "echo '' a"),
            (words(&["echo", "a;b"]), words(&[]), "echo 'a;b' "),
        ];
        for (command, inputs, expected) in cases {
            let template = Template::from_words(&command, &quoted);
            assert_eq!(template.fill(&inputs, 1, true), expected, "{command:?}");
        }
    }

    #[test]
    fn column_names_stand_for_their_positions() {
        let args = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let options = TemplateOptions {
            names: vec![("file".into(), 2), ("f".into(), 1), ("#x".into(), 3)],
            ..TemplateOptions::default()
        };
        let template = |command: &str| Template::from_words(&[command.to_owned()], &options);
        let inputs = args(&["a", "d/x.txt", "z"]);
        // (command, expected)
        let cases = [
            ("echo {file}", "echo d/x.txt"),
            (
                "echo {file.} {file/} {file/.} {file//}",
                "echo d/x x.txt x d",
            ),
            ("echo {f} {1}", "echo a a"),
            ("echo {#}", "echo 4"),
            ("echo {files} {fi}", "echo {files} {fi} a d/x.txt z"),
        ];
        for (command, expected) in cases {
            assert_eq!(
                template(command).fill(&inputs, 4, true),
                expected,
                "{command}"
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Words and values made of what replacement strings are made of, and more: braces,
        /// the Perl parens, operators of `--plus`, digits, slashes, dots, multibyte text.
        fn text() -> impl Strategy<Value = String> {
            proptest::string::string_regex(r"[{}=,.%#/:^+\-0-9a-c é€\\$'\n]{0,12}")
                .expect("a valid pattern")
        }

        proptest! {
            #[test]
            fn any_command_parses_and_fills_without_failing(
                words in prop::collection::vec(text(), 0..4),
                values in prop::collection::vec(text(), 0..3),
                plus: bool,
                quote: bool,
                context: bool,
                commas: bool,
            ) {
                let options = TemplateOptions {
                    plus,
                    quote,
                    context,
                    parens: if commas { Parens::parse(",,,,").unwrap() } else { Parens::default() },
                    ..TemplateOptions::default()
                };
                let mut template = Template::from_words(&words, &options);
                template.set_total(3);
                template.set_slot_width(12);
                let (line, _) = template.fill_job(&values, 2, true);
                let _ = with_slot(&line, 7);
                let _ = template.skips(&values);
                let text = Template::text(&words.join(" "), &options);
                let _ = text.fill(&values, 1, false);
                // A command with no brace and no Perl parens in it is its words, then the
                // inputs.
                if words.iter().all(|w| !w.contains('{') && !w.contains(",,")) && !quote && !words.is_empty() && !context {
                    let joined = words.join(" ");
                    prop_assert!(line.starts_with(&joined), "{:?} -> {:?}", words, line);
                }
            }
        }
    }
}
