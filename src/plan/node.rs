//! The format-neutral document tree every plan format is parsed into: scalars, arrays and
//! maps, each with the byte range it came from. Decoding reads only this tree, so every
//! later message can point at the place in the file whatever the format. This file does
//! not parse anything itself.

use std::ops::Range;

/// A byte range in the plan file's text.
pub(crate) type Span = Range<usize>;

/// A value of the document and where it is.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) span: Span,
    pub(crate) kind: Kind,
}

/// A map key and where it is.
#[derive(Clone, Debug)]
pub(crate) struct Key {
    pub(crate) name: String,
    pub(crate) span: Span,
}

/// What a [`Node`] holds.
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Node>),
    /// Entries in document order.
    Map(Vec<(Key, Node)>),
    /// A value no plan field accepts (a TOML date, say), by the name to show.
    Other(&'static str),
}

impl Node {
    pub(crate) fn new(span: Span, kind: Kind) -> Node {
        Node { span, kind }
    }

    /// The name of the value's type, for "expected …, found …" messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a float",
            Kind::Str(_) => "a string",
            Kind::Array(_) => "an array",
            Kind::Map(_) => "a table",
            Kind::Other(name) => name,
        }
    }

    /// The value as text when it is a scalar (matrix values, ids given as numbers).
    pub(crate) fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Int(i) => Some(i.to_string()),
            Kind::Float(f) => Some(f.to_string()),
            Kind::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}
