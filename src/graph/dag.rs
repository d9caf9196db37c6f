//! The DAG itself: built from per-task dependency lists, refusing cycles.

/// A cycle found while building a [`Dag`]: task indices in order, each depending on the
/// next... precisely: `path[i]` depends on `path[i+1]`, and the last depends on the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle(pub Vec<usize>);

/// An acyclic dependency graph over task indices `0..len`.
#[derive(Clone, Debug)]
pub struct Dag {
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
    topo: Vec<usize>,
}

impl Dag {
    /// Builds the graph; `deps[i]` lists the tasks `i` waits for.
    pub fn new(deps: Vec<Vec<usize>>) -> Result<Dag, Cycle> {
        let n = deps.len();
        let mut dependents = vec![Vec::new(); n];
        let mut pending: Vec<usize> = deps.iter().map(Vec::len).collect();
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                dependents[d].push(i);
            }
        }
        // Kahn's algorithm with a min-heap so ties come out in plan order.
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<usize>> = (0..n)
            .filter(|&i| pending[i] == 0)
            .map(std::cmp::Reverse)
            .collect();
        let mut topo = Vec::with_capacity(n);
        while let Some(std::cmp::Reverse(i)) = ready.pop() {
            topo.push(i);
            for &j in &dependents[i] {
                pending[j] -= 1;
                if pending[j] == 0 {
                    ready.push(std::cmp::Reverse(j));
                }
            }
        }
        if topo.len() < n {
            return Err(find_cycle(&deps, &pending));
        }
        Ok(Dag {
            deps,
            dependents,
            topo,
        })
    }
    pub fn len(&self) -> usize {
        self.deps.len()
    }
    pub fn is_empty(&self) -> bool {
        self.deps.is_empty()
    }
    /// Tasks `i` waits for.
    pub fn deps(&self, i: usize) -> &[usize] {
        &self.deps[i]
    }
    /// Tasks that wait for `i`.
    pub fn dependents(&self, i: usize) -> &[usize] {
        &self.dependents[i]
    }
    /// A topological order (dependencies first; ties in plan order).
    pub fn topo_order(&self) -> &[usize] {
        &self.topo
    }
    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.deps.iter().map(Vec::len).sum()
    }
    /// Levels: wave 0 holds tasks with no dependencies, wave k tasks whose deepest
    /// dependency is in wave k-1. Members in plan order.
    pub fn waves(&self) -> Vec<Vec<usize>> {
        let mut level = vec![0usize; self.len()];
        for &i in &self.topo {
            level[i] = self.deps[i]
                .iter()
                .map(|&d| level[d] + 1)
                .max()
                .unwrap_or(0);
        }
        let depth = level.iter().max().map_or(0, |&deepest| deepest + 1);
        let mut waves = vec![Vec::new(); depth];
        for (i, &k) in level.iter().enumerate() {
            waves[k].push(i);
        }
        waves
    }
    /// For each task, its weight plus the heaviest path from it to the end of the graph.
    pub fn bottom_levels(&self, weights: &[f64]) -> Vec<f64> {
        let mut level = vec![0.0; self.len()];
        for &i in self.topo.iter().rev() {
            let tail = self.dependents[i]
                .iter()
                .map(|&j| level[j])
                .fold(0.0, f64::max);
            level[i] = weights[i] + tail;
        }
        level
    }
    /// The heaviest path through the graph (first task first) and its total weight.
    ///
    /// The path runs from a task without dependencies to one without dependents, and its
    /// total equals the largest bottom level (weights are never negative). Among equally
    /// heavy choices, the task earlier in plan order wins, both for the start and for each
    /// next step. An empty graph has an empty path of weight 0.
    pub fn critical_path(&self, weights: &[f64]) -> (Vec<usize>, f64) {
        let level = self.bottom_levels(weights);
        let sources = (0..self.len()).filter(|&i| self.deps[i].is_empty());
        let Some(mut node) = heaviest(sources, &level) else {
            return (Vec::new(), 0.0);
        };
        let total = level[node];
        let mut path = vec![node];
        // The bottom level of a task is its weight plus the heaviest level among its
        // dependents, so following the heaviest dependent retraces that sum.
        while let Some(next) = heaviest(self.dependents[node].iter().copied(), &level) {
            path.push(next);
            node = next;
        }
        (path, total)
    }
    /// `roots` plus everything they depend on, transitively, as a membership vector.
    pub fn closure(&self, roots: &[usize]) -> Vec<bool> {
        let mut member = vec![false; self.len()];
        let mut stack: Vec<usize> = roots.to_vec();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut member[i], true) {
                stack.extend_from_slice(&self.deps[i]);
            }
        }
        member
    }
}

/// The candidate with the largest level; the first one seen among equals.
fn heaviest(candidates: impl Iterator<Item = usize>, level: &[f64]) -> Option<usize> {
    candidates.fold(None, |best, i| match best {
        Some(b) if level[b] >= level[i] => Some(b),
        _ => Some(i),
    })
}

/// Finds one cycle among the nodes Kahn's algorithm could not order (`pending > 0`).
fn find_cycle(deps: &[Vec<usize>], pending: &[usize]) -> Cycle {
    // Every unordered node has an unordered dependency, so walking unordered dependencies
    // from any unordered node must revisit a node: the walk from there is a cycle.
    let start = pending
        .iter()
        .position(|&p| p > 0)
        .expect("a node left unordered");
    let mut seen_at = vec![usize::MAX; deps.len()];
    let mut path = Vec::new();
    let mut node = start;
    loop {
        if seen_at[node] != usize::MAX {
            return Cycle(path.split_off(seen_at[node]));
        }
        seen_at[node] = path.len();
        path.push(node);
        node = *deps[node]
            .iter()
            .find(|&&d| pending[d] > 0)
            .expect("an unordered node has an unordered dependency");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_dependencies_first_and_ties_in_plan_order() {
        let dag = Dag::new(vec![vec![2], vec![], vec![], vec![0, 1]]).unwrap();
        assert_eq!(dag.topo_order(), &[1, 2, 0, 3]);
        assert_eq!(dag.dependents(2), &[0]);
        assert_eq!(dag.edge_count(), 3);
    }

    #[test]
    fn reports_the_whole_cycle() {
        // 0 -> 1 -> 2 -> 0, and 3 hangs off the cycle.
        let err = Dag::new(vec![vec![1], vec![2], vec![0], vec![0]]).unwrap_err();
        let mut cycle = err.0.clone();
        cycle.sort_unstable();
        assert_eq!(cycle, vec![0, 1, 2]);
        for (k, &a) in err.0.iter().enumerate() {
            let b = err.0[(k + 1) % err.0.len()];
            assert!([vec![1], vec![2], vec![0]][a].contains(&b));
        }
    }

    #[test]
    fn self_dependency_is_a_cycle_of_one() {
        assert_eq!(Dag::new(vec![vec![0]]).unwrap_err(), Cycle(vec![0]));
    }

    #[test]
    fn bottom_levels_sum_the_heaviest_tail() {
        // 0 -> {1, 2}; 1 -> 3. Weights 1, 5, 2, 1.
        let dag = Dag::new(vec![vec![], vec![0], vec![0], vec![1]]).unwrap();
        assert_eq!(
            dag.bottom_levels(&[1.0, 5.0, 2.0, 1.0]),
            vec![7.0, 6.0, 2.0, 1.0]
        );
    }

    #[test]
    fn waves_put_each_task_one_past_its_deepest_dependency() {
        // 0, 1 free; 2 after 0; 3 after 1 and 2; 4 after 0.
        let dag = Dag::new(vec![vec![], vec![], vec![0], vec![1, 2], vec![0]]).unwrap();
        assert_eq!(dag.waves(), vec![vec![0, 1], vec![2, 4], vec![3]]);
        assert!(Dag::new(Vec::new()).unwrap().waves().is_empty());
    }

    #[test]
    fn critical_path_follows_the_heaviest_chain() {
        // 0 -> {1, 2}; 1 -> 3. Weights 1, 5, 2, 1.
        let dag = Dag::new(vec![vec![], vec![0], vec![0], vec![1]]).unwrap();
        assert_eq!(
            dag.critical_path(&[1.0, 5.0, 2.0, 1.0]),
            (vec![0, 1, 3], 7.0)
        );
        assert_eq!(dag.critical_path(&[1.0, 1.0, 9.0, 1.0]), (vec![0, 2], 10.0));
    }

    #[test]
    fn critical_path_ties_go_to_plan_order() {
        // Two equal chains 0 -> 2 and 1 -> 3; and 0 has two equal dependents.
        let dag = Dag::new(vec![vec![], vec![], vec![0], vec![1], vec![0]]).unwrap();
        assert_eq!(dag.critical_path(&[1.0; 5]), (vec![0, 2], 2.0));
        // A weightless first task still starts the path: 1 -> 0.
        let dag = Dag::new(vec![vec![1], vec![]]).unwrap();
        assert_eq!(dag.critical_path(&[5.0, 0.0]), (vec![1, 0], 5.0));
        assert_eq!(
            Dag::new(Vec::new()).unwrap().critical_path(&[]),
            (Vec::new(), 0.0)
        );
    }

    #[test]
    fn closure_follows_dependencies_only() {
        let dag = Dag::new(vec![vec![], vec![0], vec![1], vec![]]).unwrap();
        assert_eq!(dag.closure(&[1]), vec![true, true, false, false]);
    }
}
