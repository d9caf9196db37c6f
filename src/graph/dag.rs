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
        let _ = deps;
        unimplemented!("graph::Dag::new")
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
        unimplemented!("graph::Dag::waves")
    }
    /// For each task, its weight plus the heaviest path from it to the end of the graph.
    pub fn bottom_levels(&self, weights: &[f64]) -> Vec<f64> {
        let _ = weights;
        unimplemented!("graph::Dag::bottom_levels")
    }
    /// The heaviest path through the graph (first task first) and its total weight.
    pub fn critical_path(&self, weights: &[f64]) -> (Vec<usize>, f64) {
        let _ = weights;
        unimplemented!("graph::Dag::critical_path")
    }
    /// `roots` plus everything they depend on, transitively, as a membership vector.
    pub fn closure(&self, roots: &[usize]) -> Vec<bool> {
        let _ = roots;
        unimplemented!("graph::Dag::closure")
    }
}
