//! A check run over many skills: discovers them, checks each in parallel (rayon) or takes
//! its result from the cache, then applies the rules that need every skill at once (shared
//! names, links between skills, cycles of skills referring to each other). It prints
//! nothing; reporters turn a [`CheckRun`] into text, JSON or SARIF.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use petgraph::graphmap::DiGraphMap;
use rayon::prelude::*;
use serde::Serialize;

use super::cache::{Cache, StatEntry, key_and_skill_md, stat_signature};
use super::check::{self, Checked, join_lexically};
use super::config::SkillsConfig;
use super::discover::{SkillDir, discover_with};
use super::error::SkillsError;
use super::problem::{Pos, Problem, Severity};
use super::spec::Profile;

/// How to check.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// A profile chosen on the command line; wins over the configuration and `.claude/`.
    pub profile: Option<Profile>,
    pub config: SkillsConfig,
    /// The state directory holding the cache; `None` checks everything afresh and keeps
    /// nothing.
    pub state_dir: Option<PathBuf>,
}

/// The verdict on one skill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// One skill's result.
#[derive(Clone, Debug, Serialize)]
pub struct SkillResult {
    pub path: String,
    #[serde(skip)]
    pub dir: PathBuf,
    #[serde(skip)]
    pub skill_md: PathBuf,
    pub profile: Profile,
    pub status: Status,
    pub cached: bool,
    #[serde(flatten)]
    pub checked: Checked,
}

impl SkillResult {
    fn settle(&mut self) {
        self.checked
            .problems
            .sort_by_key(|p| (p.line.unwrap_or(0), p.column.unwrap_or(0)));
        self.status = if self
            .checked
            .problems
            .iter()
            .any(|p| p.severity == Severity::Error)
        {
            Status::Fail
        } else if self.checked.problems.is_empty() {
            Status::Ok
        } else {
            Status::Warn
        };
    }

    /// Checks among [`check::CHECKS`] that ran and found nothing.
    pub fn checks_passed(&self) -> usize {
        let failed: std::collections::HashSet<&str> =
            self.checked.problems.iter().map(Problem::check).collect();
        self.checked.checks_run.saturating_sub(failed.len())
    }
}

/// Counts over a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub skills: usize,
    pub passed: usize,
    pub failed: usize,
    pub warned: usize,
    pub cached: usize,
    pub checks_run: usize,
    pub checks_passed: usize,
    pub duration_ms: u128,
}

/// Everything a check run found.
#[derive(Debug)]
pub struct CheckRun {
    pub skills: Vec<SkillResult>,
    pub notices: Vec<String>,
    pub elapsed: Duration,
}

impl CheckRun {
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            skills: self.skills.len(),
            duration_ms: self.elapsed.as_millis(),
            ..Summary::default()
        };
        for skill in &self.skills {
            match skill.status {
                Status::Fail => s.failed += 1,
                Status::Warn => {
                    s.passed += 1;
                    s.warned += 1;
                }
                Status::Ok => s.passed += 1,
            }
            s.cached += usize::from(skill.cached);
            s.checks_run += skill.checked.checks_run;
            s.checks_passed += skill.checks_passed();
        }
        s
    }

    pub fn failed(&self) -> bool {
        self.skills.iter().any(|s| s.status == Status::Fail)
    }
}

fn dir_name(dir: &Path) -> String {
    let absolute;
    let dir = if dir.file_name().is_none() {
        absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        absolute.as_path()
    } else {
        dir
    };
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Checks every skill under `roots`.
pub fn check_roots(roots: &[PathBuf], options: &CheckOptions) -> Result<CheckRun, SkillsError> {
    let start = Instant::now();
    let mut cache = options.state_dir.as_deref().map(Cache::open);
    let listings = cache.as_mut().map(Cache::listings);
    let discovery = discover_with(roots, listings.as_ref())?;
    if let Some(cache) = cache.as_mut() {
        if let Some(listings) = listings {
            cache.walked(listings);
        }
        cache.ready();
    }
    // What a verdict depends on besides the files, per profile: worked out once.
    let digest = options.config.digest();
    let settings: Vec<(Profile, String)> = [Profile::Spec, Profile::ClaudeCode]
        .into_iter()
        .map(|p| (p, format!("{}\0{digest}", p.as_str())))
        .collect();
    let settings_of = |profile: Profile| {
        settings
            .iter()
            .find(|(p, _)| *p == profile)
            .map_or("", |(_, s)| s.as_str())
    };

    let profile_of = |skill: &SkillDir| {
        options
            .profile
            .or(options.config.profile)
            .unwrap_or(if skill.under_claude {
                Profile::ClaudeCode
            } else {
                Profile::Spec
            })
    };
    let cache_ref = cache.as_ref();
    let results: Vec<Outcome> = discovery
        .skills
        .par_iter()
        .map(|skill| {
            let profile = profile_of(skill);
            check_one(
                skill,
                profile,
                settings_of(profile),
                &options.config,
                cache_ref,
            )
        })
        .collect();

    let mut skills = Vec::with_capacity(results.len());
    for (result, key, stat) in results {
        if let (Some(cache), Some((folder, entry))) = (cache.as_mut(), stat) {
            cache.note_stat(folder, entry);
        }
        if let (Some(cache), Some(key)) = (cache.as_mut(), key) {
            if result.cached {
                cache.note_used(key);
            } else {
                cache.insert(key, result.checked.clone());
            }
        }
        skills.push(result);
    }
    // The cache is written on a thread of its own while the rules across skills run.
    std::thread::scope(|scope| {
        let saving = cache.map(|cache| scope.spawn(|| cache.save()));
        across_skills(&mut skills, &options.config);
        for skill in &mut skills {
            skill.settle();
        }
        match saving.map(|s| s.join()) {
            Some(Ok(saved)) => saved,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Ok(()),
        }
    })?;
    Ok(CheckRun {
        skills,
        notices: discovery.notices,
        elapsed: start.elapsed(),
    })
}

/// One skill's result, its content key, and its folder's metadata signature.
type Outcome = (SkillResult, Option<String>, Option<(String, StatEntry)>);

/// Checks one skill, or takes its result from the cache: first by the metadata signature
/// of its files (nothing is read when they are untouched), then by their content hash.
fn check_one(
    skill: &SkillDir,
    profile: Profile,
    settings: &str,
    config: &SkillsConfig,
    cache: Option<&Cache>,
) -> Outcome {
    let name = dir_name(&skill.dir);
    let folder = skill.absolute.to_string_lossy().into_owned();
    let signature = cache.and_then(|_| {
        stat_signature(
            &skill.skill_md,
            &skill.files,
            &format!("{settings}\0{name}"),
        )
    });
    let by_stat = cache.zip(signature.as_ref()).and_then(|(cache, sig)| {
        let key = cache.key_by_stat(&folder, sig)?;
        Some((key.to_owned(), cache.get(key)?.clone()))
    });
    let (key, checked, cached) = match (by_stat, cache) {
        (Some((key, checked)), _) => (Some(key), checked, true),
        (None, Some(cache)) => {
            let (key, read) = key_and_skill_md(&name, &skill.skill_md, &skill.files, settings);
            match cache.get(&key) {
                Some(hit) => (Some(key), hit.clone(), true),
                None => {
                    let checked = check::check(read, &name, &skill.files, profile, config);
                    (Some(key), checked, false)
                }
            }
        }
        (None, None) => {
            let read = check::read_skill_md(&skill.skill_md);
            (
                None,
                check::check(read, &name, &skill.files, profile, config),
                false,
            )
        }
    };
    let stat = key
        .clone()
        .zip(signature)
        .map(|(key, signature)| (folder, StatEntry { signature, key }));
    let result = SkillResult {
        path: skill.display.clone(),
        dir: skill.dir.clone(),
        skill_md: skill.skill_md.clone(),
        profile,
        status: Status::Ok,
        cached,
        checked,
    };
    (result, key, stat)
}

/// Skills named in a duplicate-name problem before "and N more".
const NAMED_OTHERS: usize = 3;

/// The rules that need every skill: shared names, links out of a skill, cycles.
fn across_skills(skills: &mut [SkillResult], config: &SkillsConfig) {
    let severity = |rule: &str| {
        if config.errors.iter().any(|r| r == rule) {
            Severity::Error
        } else {
            Severity::Warning
        }
    };
    let make = |rule: &str, message: String| Problem {
        severity: severity(rule),
        ..Problem::warning(rule, message)
    };

    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, skill) in skills.iter().enumerate() {
        if let Some(name) = &skill.checked.name {
            by_name.entry(name).or_default().push(i);
        }
    }
    let mut added: Vec<(usize, Problem)> = Vec::new();
    for (name, indices) in &by_name {
        if indices.len() > 1 {
            for &i in indices {
                let others: Vec<&str> = indices
                    .iter()
                    .filter(|&&j| j != i)
                    .take(NAMED_OTHERS + 1)
                    .map(|&j| skills[j].path.as_str())
                    .collect();
                // A name shared by many: the first few, then how many more.
                let count = indices.len() - 1;
                let listed = if count > NAMED_OTHERS + 1 {
                    format!(
                        "{} and {} more",
                        others[..NAMED_OTHERS].join(", "),
                        count - NAMED_OTHERS
                    )
                } else {
                    others.join(", ")
                };
                added.push((
                    i,
                    make(
                        "skills-duplicate-name",
                        format!("name `{name}` is also used by {listed}"),
                    ),
                ));
            }
        }
    }

    let cwd = std::env::current_dir().unwrap_or_default();
    let bases: Vec<PathBuf> = skills
        .par_iter()
        .map(|s| lexical_absolute(&s.dir, &cwd))
        .collect();
    let folders: HashMap<&Path, usize> = bases
        .iter()
        .enumerate()
        .map(|(i, b)| (b.as_path(), i))
        .collect();
    // Each link out of a skill: where it leads, and whether that exists (asked in parallel).
    let links: Vec<Vec<(PathBuf, bool)>> = skills
        .par_iter()
        .zip(&bases)
        .map(|(skill, base)| {
            skill
                .checked
                .outside_links
                .iter()
                .map(|link| {
                    let target = join_lexically(base, &link.target);
                    let exists = std::fs::metadata(&target).is_ok();
                    (target, exists)
                })
                .collect()
        })
        .collect();
    let mut graph: DiGraphMap<usize, Pos, std::hash::RandomState> = DiGraphMap::default();
    for (i, skill) in skills.iter().enumerate() {
        for (link, (target, exists)) in skill.checked.outside_links.iter().zip(&links[i]) {
            let pos = Pos::new(link.line, link.column);
            if !exists {
                added.push((
                    i,
                    make("links-missing", format!("`{}` does not exist", link.target)).at(pos),
                ));
                continue;
            }
            match target.ancestors().find_map(|a| folders.get(a)) {
                Some(&j) if j != i => {
                    graph.add_edge(i, j, pos);
                }
                Some(_) => {}
                None => added.push((
                    i,
                    make(
                        "links-outside",
                        format!(
                            "`{}` leaves the skill and is not another skill",
                            link.target
                        ),
                    )
                    .at(pos),
                )),
            }
        }
    }
    for component in petgraph::algo::tarjan_scc(&graph) {
        if component.len() < 2 {
            continue;
        }
        let mut members = component.clone();
        members.sort_unstable();
        let names: Vec<&str> = members.iter().map(|&i| skills[i].path.as_str()).collect();
        for &i in &members {
            let pos = graph
                .edges(i)
                .find(|(_, j, _)| members.contains(j))
                .map(|(_, _, p)| *p);
            let mut problem = make(
                "skills-cycle",
                format!(
                    "skills refer to each other in a cycle: {}",
                    names.join(" → ")
                ),
            );
            if let Some(pos) = pos {
                problem = problem.at(pos);
            }
            added.push((i, problem));
        }
    }
    for (i, problem) in added {
        skills[i].checked.problems.push(problem);
    }
}

/// `path` made absolute against `cwd` (asked once by the caller, not per path), `.` and
/// `..` resolved lexically.
fn lexical_absolute(path: &Path, cwd: &Path) -> PathBuf {
    join_lexically(&cwd.join(path), ".")
}
