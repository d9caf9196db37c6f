//! A small YAML document tree with positions, built from the event parser that
//! `serde-saphyr` ships: every node knows its line and column in `SKILL.md`, whether it was
//! written in flow style (`{…}`, `[…]`), and duplicate keys are reported rather than merged.
//! Scalars stay strings, untyped, as the specification's reference validator reads them. It
//! knows nothing about skills.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser, ScanError, Span, StructureStyle};

use super::problem::{Pos, Problem};

/// One YAML node.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) pos: Pos,
    /// Written in flow style (`{…}` or `[…]`).
    pub(crate) flow: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// Any scalar, as written (after YAML's quoting and folding rules).
    Scalar(String),
    Seq(Vec<Node>),
    /// Entries in document order; a duplicate key keeps its first value.
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The key as text: scalars as written, anything else in a short form.
    pub(crate) fn key_text(&self) -> String {
        match &self.value {
            Value::Scalar(s) => s.clone(),
            Value::Seq(_) => "[…]".to_owned(),
            Value::Map(_) => "{…}".to_owned(),
        }
    }

    /// The value under `key` in a mapping, with the key node.
    pub(crate) fn get(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }
}

/// A parsed frontmatter: its root node (`None` for an empty document) and the duplicate keys.
#[derive(Debug)]
pub(crate) struct Document {
    pub(crate) root: Option<Node>,
    pub(crate) problems: Vec<Problem>,
}

/// Parses `yaml`, whose first line is line `first_line` of `SKILL.md`.
pub(crate) fn parse(yaml: &str, first_line: usize) -> Result<Document, Problem> {
    let mut builder = Builder {
        events: Parser::new_from_str(yaml),
        first_line,
        anchors: HashMap::new(),
        problems: Vec::new(),
    };
    let root = builder
        .document()
        .map_err(|e| syntax_problem(&e, first_line))?;
    Ok(Document {
        root,
        problems: builder.problems,
    })
}

fn syntax_problem(err: &ScanError, first_line: usize) -> Problem {
    let mark = err.marker();
    Problem::error(
        "yaml-syntax",
        format!("the frontmatter is not valid YAML: {}", err.info()),
    )
    .at(Pos::new(
        first_line + mark.line().max(1) - 1,
        mark.col() + 1,
    ))
}

struct Builder<'a> {
    events: Parser<'a, serde_saphyr::granit_parser::StrInput<'a>>,
    first_line: usize,
    anchors: HashMap<usize, Node>,
    problems: Vec<Problem>,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), ScanError> {
        match self.events.next_event() {
            Some(result) => result,
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    fn pos(&self, span: &Span) -> Pos {
        Pos::new(
            self.first_line + span.start.line().max(1) - 1,
            span.start.col() + 1,
        )
    }

    fn document(&mut self) -> Result<Option<Node>, ScanError> {
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentStart(..) => {}
                Event::StreamEnd | Event::DocumentEnd => return Ok(None),
                other => {
                    let node = self.node(other, span)?;
                    return Ok(Some(node));
                }
            }
        }
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<Node, ScanError> {
        let pos = self.pos(&span);
        let node = match event {
            Event::Scalar(value, _, anchor, _) => {
                let node = Node {
                    value: Value::Scalar(value.into_owned()),
                    pos,
                    flow: false,
                };
                self.remember(anchor, &node);
                node
            }
            Event::Alias(id) => {
                let mut node = self.anchors.get(&id).cloned().unwrap_or(Node {
                    value: Value::Scalar(String::new()),
                    pos,
                    flow: false,
                });
                node.pos = pos;
                node
            }
            Event::SequenceStart(style, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    match event {
                        Event::SequenceEnd | Event::StreamEnd => break,
                        other => items.push(self.node(other, span)?),
                    }
                }
                let node = Node {
                    value: Value::Seq(items),
                    pos,
                    flow: style == StructureStyle::Flow,
                };
                self.remember(anchor, &node);
                node
            }
            Event::MappingStart(style, anchor, _) => {
                let mut entries: Vec<(Node, Node)> = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    let key = match event {
                        Event::MappingEnd | Event::StreamEnd => break,
                        other => self.node(other, span)?,
                    };
                    let (event, span) = self.next()?;
                    let value = self.node(event, span)?;
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.value == key.value) {
                        self.problems.push(
                            Problem::error(
                                "yaml-duplicate-key",
                                format!(
                                    "duplicate key `{}` (first on line {})",
                                    key.key_text(),
                                    first.pos.line
                                ),
                            )
                            .at(key.pos),
                        );
                    } else {
                        entries.push((key, value));
                    }
                }
                let node = Node {
                    value: Value::Map(entries),
                    pos,
                    flow: style == StructureStyle::Flow,
                };
                self.remember(anchor, &node);
                node
            }
            // Anchors metadata, comments and stray ends carry no data.
            _ => Node {
                value: Value::Scalar(String::new()),
                pos,
                flow: false,
            },
        };
        Ok(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(yaml: &str) -> Node {
        parse(yaml, 2).unwrap().root.unwrap()
    }

    #[test]
    fn scalars_stay_strings_with_positions() {
        let r = root("name: a\nversion: 1.0\ndescription: >\n  folded\n  text\n");
        let (key, value) = r.get("version").unwrap();
        assert_eq!(value.as_str(), Some("1.0"));
        assert_eq!(key.pos, Pos::new(3, 1));
        assert_eq!(value.pos, Pos::new(3, 10));
        assert_eq!(
            r.get("description").unwrap().1.as_str(),
            Some("folded text\n")
        );
    }

    #[test]
    fn duplicate_keys_are_problems_at_the_second_key() {
        let doc = parse("name: a\nname: b\n", 2).unwrap();
        assert_eq!(doc.problems[0].rule, "yaml-duplicate-key");
        assert_eq!(doc.problems[0].line, Some(3));
        assert_eq!(doc.root.unwrap().get("name").unwrap().1.as_str(), Some("a"));
    }

    #[test]
    fn flow_style_is_recorded() {
        let r = root("metadata: {a: b}\ntools: [x]\nname: c\n");
        assert!(r.get("metadata").unwrap().1.flow);
        assert!(!r.get("name").unwrap().1.flow);
    }

    #[test]
    fn syntax_errors_are_located_and_empty_documents_have_no_root() {
        let err = parse("name: a\n  bad: [\n", 2).unwrap_err();
        assert_eq!(err.rule, "yaml-syntax");
        assert!(err.line.unwrap() >= 2);
        assert!(parse("\n", 2).unwrap().root.is_none());
    }

    #[test]
    fn aliases_resolve_to_their_anchor() {
        let r = root("a: &x hello\nb: *x\n");
        assert_eq!(r.get("b").unwrap().1.as_str(), Some("hello"));
    }
}
