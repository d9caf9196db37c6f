//! Property tests of the graph on random DAGs and random globs: the invariants every plan
//! relies on, checked far beyond the hand-written examples beside each function.

use proptest::prelude::*;

use super::{Dag, globs_overlap};

/// A random acyclic `deps` list: tasks are generated in some order, each depending on up
/// to three earlier ones, then shuffled so plan order is not generation order.
fn random_deps() -> impl Strategy<Value = Vec<Vec<usize>>> {
    (0usize..40)
        .prop_flat_map(|n| {
            let picks =
                proptest::collection::vec(proptest::collection::vec(any::<usize>(), 0..4), n);
            let order = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
            (picks, order)
        })
        .prop_map(|(picks, order)| {
            let n = picks.len();
            let mut deps = vec![Vec::new(); n];
            for (generated, raw) in picks.iter().enumerate() {
                if generated == 0 {
                    continue;
                }
                let mut earlier: Vec<usize> = raw.iter().map(|r| order[r % generated]).collect();
                earlier.sort_unstable();
                earlier.dedup();
                deps[order[generated]] = earlier;
            }
            deps
        })
}

/// Random deps with whole-number weights (so sums are exact).
fn weighted_dag() -> impl Strategy<Value = (Vec<Vec<usize>>, Vec<f64>)> {
    random_deps().prop_flat_map(|deps| {
        let n = deps.len();
        (
            Just(deps),
            proptest::collection::vec((0u32..10).prop_map(f64::from), n),
        )
    })
}

proptest! {
    #[test]
    fn topo_order_puts_dependencies_first(deps in random_deps()) {
        let dag = Dag::new(deps.clone()).unwrap();
        let mut position = vec![usize::MAX; deps.len()];
        for (k, &i) in dag.topo_order().iter().enumerate() {
            prop_assert_eq!(position[i], usize::MAX, "task {} ordered twice", i);
            position[i] = k;
        }
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                prop_assert!(position[d] < position[i]);
            }
        }
    }

    #[test]
    fn every_dependency_is_in_an_earlier_wave(deps in random_deps()) {
        let dag = Dag::new(deps.clone()).unwrap();
        let waves = dag.waves();
        let mut wave_of = vec![usize::MAX; deps.len()];
        for (k, wave) in waves.iter().enumerate() {
            prop_assert!(!wave.is_empty());
            prop_assert!(wave.windows(2).all(|w| w[0] < w[1]), "wave not in plan order");
            for &i in wave {
                wave_of[i] = k;
            }
        }
        prop_assert!(wave_of.iter().all(|&k| k != usize::MAX));
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                prop_assert!(wave_of[d] < wave_of[i]);
            }
            // Not later than needed: some dependency sits in the wave just before.
            if wave_of[i] > 0 {
                prop_assert!(ds.iter().any(|&d| wave_of[d] + 1 == wave_of[i]));
            }
        }
    }

    #[test]
    fn critical_path_is_a_real_path_as_heavy_as_any_bottom_level(
        (deps, weights) in weighted_dag()
    ) {
        let dag = Dag::new(deps.clone()).unwrap();
        let (path, total) = dag.critical_path(&weights);
        for pair in path.windows(2) {
            prop_assert!(deps[pair[1]].contains(&pair[0]), "{:?} is not an edge", pair);
        }
        let sum: f64 = path.iter().map(|&i| weights[i]).sum();
        prop_assert_eq!(sum, total);
        let heaviest = dag.bottom_levels(&weights).into_iter().fold(0.0, f64::max);
        prop_assert_eq!(total, heaviest);
        if let (Some(&first), Some(&last)) = (path.first(), path.last()) {
            prop_assert!(deps[first].is_empty(), "the path starts at a task with deps");
            prop_assert!(dag.dependents(last).is_empty(), "the path stops early");
        }
        prop_assert_eq!(path.is_empty(), deps.is_empty());
    }
}

/// Globs from a small alphabet so that overlaps are frequent.
fn glob() -> impl Strategy<Value = String> {
    let component = prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("a.rs".to_owned()),
        Just("*".to_owned()),
        Just("*.rs".to_owned()),
        Just("a*".to_owned()),
        Just("?".to_owned()),
        Just("[ab]".to_owned()),
        Just("**".to_owned()),
        Just("{a,b}".to_owned()),
    ];
    proptest::collection::vec(component, 1..5).prop_map(|parts| parts.join("/"))
}

/// Literal paths from the same alphabet.
fn literal_path() -> impl Strategy<Value = String> {
    let component = prop_oneof![Just("a"), Just("b"), Just("a.rs"), Just("ab"), Just("x.rs")];
    proptest::collection::vec(component, 1..5).prop_map(|parts| parts.join("/"))
}

proptest! {
    #[test]
    fn overlap_is_symmetric(a in glob(), b in glob()) {
        prop_assert_eq!(globs_overlap(&a, &b), globs_overlap(&b, &a));
    }

    #[test]
    fn a_glob_overlaps_itself(a in glob()) {
        prop_assert!(globs_overlap(&a, &a));
    }

    #[test]
    fn a_glob_overlaps_every_path_it_matches(a in glob(), path in literal_path()) {
        let matcher = globset::GlobBuilder::new(&a)
            .literal_separator(true)
            .build()
            .unwrap()
            .compile_matcher();
        if matcher.is_match(&path) {
            prop_assert!(globs_overlap(&a, &path), "{} matches {}", a, path);
            prop_assert!(globs_overlap(&path, &a));
        }
    }

    #[test]
    fn literal_paths_overlap_exactly_when_equal(a in literal_path(), b in literal_path()) {
        prop_assert_eq!(globs_overlap(&a, &b), a == b);
    }
}
