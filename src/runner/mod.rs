//! The runner: a dispatcher over executor units, one per attempt.
