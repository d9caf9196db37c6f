//! What stands between a ready agent task and its start: the run's budget, the circuit
//! breaker and the rate of its limit, and the spacing of starts of its CLI. Also what an
//! agent attempt's end changes there: spend, adaptive concurrency, the breaker. The
//! dispatcher asks before launching and tells after; this file keeps the state and
//! decides, and never touches processes.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::agent::{AgentCommand, AgentResult, Profile};
use crate::events::Event;
use crate::plan::{BudgetSettings, LimitSettings};

/// Share of the budget at which a warning is given.
pub const BUDGET_WARNING_SHARE: f64 = 0.75;
/// Successes in a row after which a lowered concurrency goes up by one.
pub const RAISE_AFTER_SUCCESSES: u32 = 3;
/// Consecutive failures that open a breaker, unless its limit says otherwise.
pub const BREAKER_FAILURES: u32 = 5;
/// How long an open breaker pauses its limit, unless its limit says otherwise.
pub const BREAKER_COOLDOWN: Duration = Duration::from_secs(30);
/// How long tasks held back by a half-open breaker wait before asking again.
const PROBE_RECHECK: Duration = Duration::from_millis(250);

/// The agent side of a run, prepared by the caller from the plan.
#[derive(Clone, Debug, Default)]
pub struct AgentRun {
    /// Per task: how to launch it, for agent tasks.
    pub tasks: Vec<Option<AgentLaunch>>,
    pub profiles: Vec<Profile>,
    pub limits: Vec<LimitRule>,
    pub budget: BudgetSettings,
}

/// One agent task, ready to run.
#[derive(Clone, Debug)]
pub struct AgentLaunch {
    /// Index into [`AgentRun::profiles`].
    pub profile: usize,
    pub command: AgentCommand,
    pub model: Option<String>,
    /// Index into [`AgentRun::limits`].
    pub limit: Option<usize>,
    pub max_usd: Option<f64>,
}

/// A named limit.
#[derive(Clone, Debug)]
pub struct LimitRule {
    pub name: String,
    /// Its counted resource (index into the plan's `resources`) when it sets a concurrency.
    pub resource: Option<usize>,
    pub settings: LimitSettings,
}

/// The rate limiter of a limit that sets a `rate` (with its `burst`, default 1).
pub(crate) fn rate_limiter(settings: &LimitSettings) -> Option<DefaultDirectRateLimiter> {
    let rate = settings.rate?;
    let period = rate.per / rate.count;
    let burst = NonZeroU32::new(settings.burst.unwrap_or(1))?;
    Some(RateLimiter::direct(
        Quota::with_period(period)?.allow_burst(burst),
    ))
}

/// When a rate limiter lets the next start through, from `now` (since the run began);
/// `None`: now, and the start is counted.
pub(crate) fn rate_wait(limiter: &DefaultDirectRateLimiter, now: Duration) -> Option<Duration> {
    let not_until = limiter.check().err()?;
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    Some(now + wait.max(Duration::from_millis(1)))
}

/// Whether an agent task may start now.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Gate {
    Go,
    /// Not before this time (since the run began).
    NotBefore(Duration),
    /// Not in this run.
    Withhold(String),
}

#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Duration>,
    /// Half open: one probe is running.
    probing: bool,
}

struct LimitState {
    rate: Option<DefaultDirectRateLimiter>,
    configured: Option<u32>,
    current: Option<u32>,
    successes: u32,
    breaker: Breaker,
}

impl std::fmt::Debug for LimitState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LimitState")
            .field("current", &self.current)
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

/// A change the dispatcher must apply to the scheduler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CapacityChange {
    pub(crate) resource: usize,
    pub(crate) capacity: u32,
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct AgentGate {
    limits: Vec<LimitState>,
    /// Per profile: when its CLI last started.
    last_start: Vec<Option<Duration>>,
    budget: BudgetSettings,
    spent_usd: f64,
    spent_tokens: u64,
    warned: bool,
    /// Per task: what its attempts cost so far, and how many met a rate limit.
    task_usd: Vec<f64>,
    rate_limits: Vec<u32>,
}

impl AgentGate {
    pub(crate) fn new(run: &AgentRun) -> AgentGate {
        let limits = run
            .limits
            .iter()
            .map(|rule| LimitState {
                rate: rate_limiter(&rule.settings),
                configured: rule.resource.and(rule.settings.concurrency),
                current: rule.resource.and(rule.settings.concurrency),
                successes: 0,
                breaker: Breaker::default(),
            })
            .collect();
        AgentGate {
            limits,
            last_start: vec![None; run.profiles.len()],
            budget: run.budget,
            spent_usd: 0.0,
            spent_tokens: 0,
            warned: false,
            task_usd: vec![0.0; run.tasks.len()],
            rate_limits: vec![0; run.tasks.len()],
        }
    }

    /// Whether `task` may start at `now`; when it may, its start is counted.
    pub(crate) fn check(&mut self, run: &AgentRun, task: usize, now: Duration) -> Gate {
        let Some(launch) = &run.tasks[task] else {
            return Gate::Go;
        };
        if let Some(reason) = self.budget_spent() {
            return Gate::Withhold(reason);
        }
        if let Some(max) = launch.max_usd
            && self.task_usd[task] >= max
        {
            return Gate::Withhold(format!(
                "its attempts cost ${:.2}, its max_usd is ${max:.2}",
                self.task_usd[task]
            ));
        }
        if let Some(l) = launch.limit {
            let b = &mut self.limits[l].breaker;
            match b.open_until {
                Some(until) if now < until => return Gate::NotBefore(until),
                Some(_) if b.probing => return Gate::NotBefore(now + PROBE_RECHECK),
                _ => {}
            }
        }
        let profile = &run.profiles[launch.profile];
        if let Some(last) = self.last_start[launch.profile] {
            let next = last + profile.start_interval;
            if now < next {
                return Gate::NotBefore(next);
            }
        }
        if let Some(l) = launch.limit
            && let Some(rate) = &self.limits[l].rate
            && let Some(until) = rate_wait(rate, now)
        {
            return Gate::NotBefore(until);
        }
        self.last_start[launch.profile] = Some(now);
        if let Some(l) = launch.limit {
            let b = &mut self.limits[l].breaker;
            if b.open_until.is_some() {
                b.probing = true;
            }
        }
        Gate::Go
    }

    fn budget_spent(&self) -> Option<String> {
        if let Some(usd) = self.budget.usd
            && self.spent_usd >= usd
        {
            return Some(format!(
                "the budget is spent: ${:.2} of ${usd:.2}",
                self.spent_usd
            ));
        }
        if let Some(tokens) = self.budget.tokens
            && self.spent_tokens >= tokens
        {
            return Some(format!(
                "the token budget is spent: {} of {tokens}",
                self.spent_tokens
            ));
        }
        None
    }

    /// How long a rate-limited attempt of `task` waits: the service's hint, else an
    /// exponential backoff from 2 s up to a minute.
    pub(crate) fn rate_limit_delay(&self, task: usize, hint: Option<Duration>) -> Duration {
        hint.unwrap_or_else(|| {
            let n = self.rate_limits[task].clamp(1, 6);
            Duration::from_secs(1 << n).min(Duration::from_secs(60))
        })
    }

    /// Records the end of an agent attempt of `task` that reported `result` (`None`: it
    /// reported nothing it could be read from). Returns the events to emit and the
    /// capacity changes to apply.
    pub(crate) fn ended(
        &mut self,
        run: &AgentRun,
        task: usize,
        result: &AgentResult,
        now: Duration,
    ) -> (Vec<Event>, Vec<CapacityChange>) {
        let mut events = Vec::new();
        let mut changes = Vec::new();
        let cost = result.cost_usd.unwrap_or(0.0);
        self.spent_usd += cost;
        self.spent_tokens += result.tokens();
        self.task_usd[task] += cost;
        if !self.warned && self.over_share(BUDGET_WARNING_SHARE) {
            self.warned = true;
            events.push(Event::BudgetWarning {
                spent_usd: self.spent_usd,
                spent_tokens: self.spent_tokens,
                budget_usd: self.budget.usd,
                budget_tokens: self.budget.tokens,
            });
        }
        let Some(launch) = &run.tasks[task] else {
            return (events, changes);
        };
        if result.rate_limited.is_some() {
            self.rate_limits[task] += 1;
        }
        let Some(l) = launch.limit else {
            return (events, changes);
        };
        let rule = &run.limits[l];
        let state = &mut self.limits[l];
        let limit = rule.name.clone();

        // Adaptive concurrency.
        if let (Some(configured), Some(current), Some(resource)) =
            (state.configured, state.current, rule.resource)
        {
            let next = if result.rate_limited.is_some() {
                state.successes = 0;
                (current / 2).max(1)
            } else if result.success {
                state.successes += 1;
                if state.successes >= RAISE_AFTER_SUCCESSES && current < configured {
                    state.successes = 0;
                    current + 1
                } else {
                    current
                }
            } else {
                current
            };
            if next != current {
                state.current = Some(next);
                changes.push(CapacityChange {
                    resource,
                    capacity: next,
                });
                events.push(Event::LimitChanged {
                    limit: limit.clone(),
                    concurrency: Some(next),
                    reason: if next < current {
                        format!("rate limited: concurrency {current} → {next}")
                    } else {
                        format!("{RAISE_AFTER_SUCCESSES} successes: concurrency {current} → {next}")
                    },
                });
            }
        }

        // The breaker.
        let b = &mut state.breaker;
        let threshold = rule.settings.breaker_failures.unwrap_or(BREAKER_FAILURES);
        let cooldown = rule.settings.breaker_cooldown.unwrap_or(BREAKER_COOLDOWN);
        if result.success {
            b.failures = 0;
            if b.open_until.take().is_some() {
                b.probing = false;
                events.push(Event::LimitChanged {
                    limit,
                    concurrency: state.current,
                    reason: "breaker closed: the probe succeeded".into(),
                });
            }
        } else {
            b.failures += 1;
            let was_probe = b.probing;
            if was_probe || (b.open_until.is_none() && b.failures >= threshold) {
                b.probing = false;
                b.open_until = Some(now + cooldown);
                events.push(Event::LimitChanged {
                    limit,
                    concurrency: state.current,
                    reason: format!(
                        "breaker open for {}: {} failure(s) in a row",
                        humantime::format_duration(cooldown),
                        b.failures
                    ),
                });
            }
        }
        (events, changes)
    }

    fn over_share(&self, share: f64) -> bool {
        self.budget.usd.is_some_and(|b| self.spent_usd >= b * share)
            || self
                .budget
                .tokens
                .is_some_and(|b| self.spent_tokens as f64 >= b as f64 * share)
    }
}
