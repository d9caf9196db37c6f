//! Conflicts from overlapping `writes` globs: tasks that must never run at the same time.
//!
//! Globs use globset syntax (`*`, `?`, `[..]`, `{a,b}`, `**`) with path semantics: `*`, `?`
//! and `[..]` stay within one path component, `**` as a whole component spans any number
//! of components (including none). Two globs overlap when some path could match both.
//! The answer is exact for literal paths and for globs whose components can be compared
//! by their literal parts; where it cannot tell, it says they overlap, because a missed
//! conflict corrupts files while an extra one only costs time.
//!
//! This file decides overlap only; the scheduler turns conflicts into locks.

use globset::{GlobBuilder, GlobMatcher};

/// Brace expansion beyond this many alternatives is not attempted: such a glob is taken
/// to overlap everything.
const MAX_ALTERNATIVES: usize = 256;

/// Whether two path globs may match a common path (conservative: when unsure, `true`).
pub fn globs_overlap(a: &str, b: &str) -> bool {
    let a = WriteGlob::parse(a);
    let b = WriteGlob::parse(b);
    a.alternatives
        .iter()
        .any(|x| b.alternatives.iter().any(|y| x.overlaps(y)))
}

/// For each task, the tasks whose `writes` overlap its own (sorted, without itself).
///
/// Globs are sorted by their leading literal components; two globs can only overlap when
/// the literal prefix of one is a prefix of the other's, and those form a contiguous run
/// in that order. Tasks writing into disjoint directories are therefore never compared,
/// and tasks writing nothing cost nothing.
pub fn write_conflicts(writes: &[Vec<String>]) -> Vec<Vec<usize>> {
    let mut entries: Vec<(usize, Pattern)> = Vec::new();
    for (task, globs) in writes.iter().enumerate() {
        for glob in globs {
            let parsed = WriteGlob::parse(glob);
            entries.extend(parsed.alternatives.into_iter().map(|p| (task, p)));
        }
    }
    entries.sort_by(|(ta, a), (tb, b)| a.literal_prefix().cmp(b.literal_prefix()).then(ta.cmp(tb)));

    let mut conflicts = vec![Vec::new(); writes.len()];
    for (k, (task, pattern)) in entries.iter().enumerate() {
        let prefix = pattern.literal_prefix();
        for (other, candidate) in entries[k + 1..]
            .iter()
            .take_while(|(_, c)| c.literal_prefix().starts_with(prefix))
        {
            if other != task && pattern.overlaps(candidate) {
                conflicts[*task].push(*other);
                conflicts[*other].push(*task);
            }
        }
    }
    for list in &mut conflicts {
        list.sort_unstable();
        list.dedup();
    }
    conflicts
}

/// Connected groups (two or more tasks) of the conflict relation, each sorted, in order of
/// their first member.
pub fn conflict_groups(conflicts: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut group_of = vec![usize::MAX; conflicts.len()];
    let mut groups = Vec::new();
    for start in 0..conflicts.len() {
        if group_of[start] != usize::MAX || conflicts[start].is_empty() {
            continue;
        }
        let id = groups.len();
        let mut members = Vec::new();
        let mut stack = vec![start];
        group_of[start] = id;
        while let Some(i) = stack.pop() {
            members.push(i);
            for &j in &conflicts[i] {
                if group_of[j] == usize::MAX {
                    group_of[j] = id;
                    stack.push(j);
                }
            }
        }
        members.sort_unstable();
        groups.push(members);
    }
    // Groups are discovered from their smallest member upwards, so they are already in
    // order of their first member; a lone task never starts one.
    groups.retain(|g| g.len() >= 2);
    groups
}

/// One `writes` entry: its brace alternatives, each split into components.
struct WriteGlob {
    alternatives: Vec<Pattern>,
}

impl WriteGlob {
    fn parse(glob: &str) -> WriteGlob {
        let alternatives = match expand_braces(glob) {
            Some(expanded) => expanded.iter().map(|g| Pattern::parse(g)).collect(),
            None => vec![Pattern::everything()],
        };
        WriteGlob { alternatives }
    }
}

/// A brace-free glob as path components, with its leading literal components apart.
#[derive(Debug)]
struct Pattern {
    components: Vec<Component>,
    literal: Vec<String>,
}

#[derive(Debug)]
enum Component {
    /// `**`: any number of components, none included.
    AnyDepth,
    /// A component without glob syntax.
    Literal(String),
    /// A component with glob syntax; `matcher` is `None` when globset refuses it.
    Wild {
        text: String,
        matcher: Option<GlobMatcher>,
    },
}

impl Pattern {
    fn everything() -> Pattern {
        Pattern {
            components: vec![Component::AnyDepth],
            literal: Vec::new(),
        }
    }

    fn parse(glob: &str) -> Pattern {
        let mut components: Vec<Component> = Vec::new();
        for part in glob.split('/') {
            match part {
                "" | "." => {}
                ".." => match components.last() {
                    Some(Component::Literal(last)) if last != ".." => {
                        components.pop();
                    }
                    // `x/*/..` or `**/..`: too clever to follow; assume anything.
                    Some(Component::AnyDepth | Component::Wild { .. }) => {
                        return Pattern::everything();
                    }
                    _ => components.push(Component::Literal(part.to_owned())),
                },
                "**" => {
                    if !matches!(components.last(), Some(Component::AnyDepth)) {
                        components.push(Component::AnyDepth);
                    }
                }
                _ if is_literal(part) => components.push(Component::Literal(part.to_owned())),
                _ => components.push(Component::Wild {
                    text: part.to_owned(),
                    matcher: GlobBuilder::new(part)
                        .literal_separator(true)
                        .build()
                        .ok()
                        .map(|g| g.compile_matcher()),
                }),
            }
        }
        // An empty glob (`.`, `./`) names the whole base directory.
        if components.is_empty() {
            return Pattern::everything();
        }
        let literal = components
            .iter()
            .map_while(|c| match c {
                Component::Literal(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        Pattern {
            components,
            literal,
        }
    }

    /// The leading literal components.
    fn literal_prefix(&self) -> &[String] {
        &self.literal
    }

    /// Whether some path matches both patterns: components are compared pairwise, with
    /// `**` on either side free to absorb any number of the other side's components.
    fn overlaps(&self, other: &Pattern) -> bool {
        let (a, b) = (&self.components, &other.components);
        // reachable[i][j]: a[i..] and b[j..] may still match a common tail.
        let width = b.len() + 1;
        let mut reachable = vec![false; (a.len() + 1) * width];
        for i in (0..=a.len()).rev() {
            for j in (0..=b.len()).rev() {
                let at = |i: usize, j: usize| reachable[i * width + j];
                let value = match (a.get(i), b.get(j)) {
                    (None, None) => true,
                    (Some(Component::AnyDepth), _) => at(i + 1, j) || (j < b.len() && at(i, j + 1)),
                    (_, Some(Component::AnyDepth)) => at(i, j + 1) || (i < a.len() && at(i + 1, j)),
                    (None, Some(_)) | (Some(_), None) => false,
                    (Some(x), Some(y)) => components_overlap(x, y) && at(i + 1, j + 1),
                };
                reachable[i * width + j] = value;
            }
        }
        reachable[0]
    }
}

/// Whether two single components (neither `**`) may match the same name.
fn components_overlap(x: &Component, y: &Component) -> bool {
    match (x, y) {
        (Component::Literal(p), Component::Literal(q)) => p == q,
        (Component::Literal(name), Component::Wild { matcher, .. })
        | (Component::Wild { matcher, .. }, Component::Literal(name)) => {
            matcher.as_ref().is_none_or(|m| m.is_match(name))
        }
        (Component::Wild { text: p, .. }, Component::Wild { text: q, .. }) => {
            let (p_head, q_head) = (literal_head(p), literal_head(q));
            let (p_tail, q_tail) = (literal_tail(p), literal_tail(q));
            (p_head.starts_with(q_head) || q_head.starts_with(p_head))
                && (p_tail.ends_with(q_tail) || q_tail.ends_with(p_tail))
        }
        // `**` is handled by the caller; saying yes keeps this total and safe.
        _ => true,
    }
}

const GLOB_SYNTAX: &[char] = &['*', '?', '[', ']', '{', '}', '\\'];

fn is_literal(component: &str) -> bool {
    !component.contains(GLOB_SYNTAX)
}

/// The text before the first glob syntax: every match starts with it.
fn literal_head(component: &str) -> &str {
    component
        .find(GLOB_SYNTAX)
        .map_or(component, |at| &component[..at])
}

/// The text after the last glob syntax: every match ends with it.
fn literal_tail(component: &str) -> &str {
    component
        .rfind(GLOB_SYNTAX)
        .map_or(component, |at| &component[at + 1..])
}

/// Expands `{a,b}` alternatives (nested too), keeping order. `None` when there would be
/// more than [`MAX_ALTERNATIVES`]. Unbalanced braces are left for globset to refuse.
fn expand_braces(glob: &str) -> Option<Vec<String>> {
    let Some((open, close, commas)) = first_brace_group(glob) else {
        return Some(vec![glob.to_owned()]);
    };
    let (before, after) = (&glob[..open], &glob[close + 1..]);
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    let mut expanded = Vec::new();
    for pair in bounds.windows(2) {
        let choice = &glob[pair[0] + 1..pair[1]];
        for whole in expand_braces(&format!("{before}{choice}{after}"))? {
            expanded.push(whole);
            if expanded.len() > MAX_ALTERNATIVES {
                return None;
            }
        }
    }
    Some(expanded)
}

/// The first balanced top-level `{..}` outside character classes and escapes: the byte
/// offsets of its braces and of its top-level commas.
fn first_brace_group(glob: &str) -> Option<(usize, usize, Vec<usize>)> {
    let bytes = glob.as_bytes();
    let mut depth = 0usize;
    let mut open = 0;
    let mut commas = Vec::new();
    let mut k = 0;
    while k < bytes.len() {
        match bytes[k] {
            b'\\' => k += 1,
            b'[' => {
                // Skip the class; a `]` right after `[` or `[!` belongs to it.
                let mut end = k + 1;
                if matches!(bytes.get(end), Some(b'!' | b'^')) {
                    end += 1;
                }
                if bytes.get(end) == Some(&b']') {
                    end += 1;
                }
                while end < bytes.len() && bytes[end] != b']' {
                    end += 1;
                }
                k = end;
            }
            b'{' => {
                if depth == 0 {
                    open = k;
                    commas.clear();
                }
                depth += 1;
            }
            b',' if depth == 1 => commas.push(k),
            b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return Some((open, k, commas));
                }
            }
            _ => {}
        }
        k += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writes(lists: &[&[&str]]) -> Vec<Vec<String>> {
        lists
            .iter()
            .map(|l| l.iter().map(|s| (*s).to_owned()).collect())
            .collect()
    }

    #[test]
    fn literal_paths_overlap_only_when_equal() {
        assert!(globs_overlap("out/a.txt", "out/a.txt"));
        assert!(globs_overlap("./out/a.txt", "out//a.txt"));
        assert!(globs_overlap("out/x/../a.txt", "out/a.txt"));
        assert!(!globs_overlap("out/a.txt", "out/b.txt"));
        assert!(!globs_overlap("out", "out/a.txt"));
    }

    #[test]
    fn common_cases() {
        assert!(!globs_overlap(
            "services/auth/out/**",
            "services/user/out/**"
        ));
        assert!(globs_overlap("src/**", "src/main.rs"));
        assert!(globs_overlap("*.md", "README.md"));
        assert!(!globs_overlap("out/a/*", "out/b/*"));
        assert!(!globs_overlap("**/*.rs", "docs/x.md"));
        assert!(globs_overlap("**/*.rs", "src/deep/x.rs"));
        assert!(globs_overlap("**", "anything/at/all"));
        assert!(!globs_overlap("*.md", "docs/README.md"));
    }

    #[test]
    fn any_depth_in_the_middle() {
        assert!(globs_overlap("a/**/z.txt", "a/b/c/z.txt"));
        assert!(globs_overlap("a/**/z.txt", "a/z.txt"));
        assert!(!globs_overlap("a/**/z.txt", "a/b/c/y.txt"));
        assert!(globs_overlap("a/**/z.txt", "**/b/**"));
        assert!(!globs_overlap("a/**/z.txt", "b/**"));
    }

    #[test]
    fn two_wildcard_components_compare_their_literal_ends() {
        assert!(!globs_overlap("out/*.log", "out/*.txt"));
        assert!(!globs_overlap("out/a*", "out/b*"));
        assert!(globs_overlap("out/a*", "out/*z"));
        assert!(globs_overlap("out/*.tar.gz", "out/*.gz"));
        assert!(globs_overlap("out/[ab].txt", "out/?.txt"));
    }

    #[test]
    fn braces_expand_to_alternatives() {
        assert!(globs_overlap("out/{a,b}/x", "out/b/x"));
        assert!(!globs_overlap("out/{a,b}/x", "out/c/x"));
        assert!(globs_overlap("{docs,src/{x,y}}/**", "src/y/z.rs"));
        assert!(!globs_overlap("{docs,src/{x,y}}/**", "src/w/z.rs"));
        assert_eq!(
            expand_braces("a{b,c{d,e}}f"),
            Some(vec!["abf".into(), "acdf".into(), "acef".into()])
        );
        assert_eq!(expand_braces("[{]x"), Some(vec!["[{]x".into()]));
    }

    #[test]
    fn unsure_means_overlap() {
        // Too many alternatives, an unbalanced brace, a `..` after a wildcard.
        let huge = "{a,b,c,d}{a,b,c,d}{a,b,c,d}{a,b,c,d}{a,b}/x";
        assert!(expand_braces(huge).is_none());
        assert!(globs_overlap(huge, "zzz/y"));
        assert!(globs_overlap("out/{a", "out/b"));
        assert!(globs_overlap("out/*/../a", "elsewhere"));
        assert!(globs_overlap(".", "src/main.rs"));
    }

    #[test]
    fn write_conflicts_are_symmetric_and_sorted() {
        let w = writes(&[
            &["out/a/*"],
            &[],
            &["out/b/*", "log/x"],
            &["out/**"],
            &["log/x"],
            &["docs/*.md"],
        ]);
        assert_eq!(
            write_conflicts(&w),
            vec![vec![3], vec![], vec![3, 4], vec![0, 2], vec![2], vec![]]
        );
    }

    #[test]
    fn a_leading_wildcard_is_compared_with_everything() {
        let w = writes(&[&["a/x.rs"], &["b/y.md"], &["**/*.rs"], &["*/y.md"]]);
        assert_eq!(
            write_conflicts(&w),
            vec![vec![2], vec![3], vec![0], vec![1]]
        );
    }

    #[test]
    fn many_tasks_with_disjoint_writes() {
        let n = 100_000;
        let w: Vec<Vec<String>> = (0..n)
            .map(|i| match i % 4 {
                0 => vec![format!("out/t{i}/result.json")],
                1 => vec![format!("pkg{i}/**")],
                _ => Vec::new(),
            })
            .chain([vec!["out/t8/*.json".to_owned()]])
            .collect();
        let conflicts = write_conflicts(&w);
        assert_eq!(conflicts[8], vec![n]);
        assert_eq!(conflicts[n], vec![8]);
        let total: usize = conflicts.iter().map(Vec::len).sum();
        assert_eq!(total, 2);
    }

    #[test]
    fn groups_are_connected_components() {
        let conflicts = vec![vec![3], vec![], vec![4], vec![0, 5], vec![2], vec![3]];
        assert_eq!(conflict_groups(&conflicts), vec![vec![0, 3, 5], vec![2, 4]]);
        assert!(conflict_groups(&[vec![], vec![]]).is_empty());
    }
}
