//! Parsing TOML, YAML and JSON text into the format-neutral [`Node`] tree, keeping the
//! byte range of every key and value. Syntax errors become located [`Problem`]s. What the
//! tree means is decided elsewhere.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::plan::error::Problem;
use crate::plan::load::Format;
use crate::plan::node::{Key, Kind, Node, Span};

/// Parses `text` in `format`.
pub(crate) fn parse(text: &str, format: Format) -> Result<Node, Vec<Problem>> {
    match format {
        Format::Toml => parse_toml(text),
        Format::Yaml => parse_yaml(text),
        Format::Json => parse_json(text),
    }
}

fn syntax_problem(message: &str, span: Span) -> Problem {
    let message = lowercase_first(message.trim().trim_end_matches('.'));
    Problem::at(&span, format!("syntax error: {message}"), "here")
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        // Keep acronyms such as "YAML" as they are.
        Some(c) if !chars.next().is_some_and(char::is_uppercase) => {
            c.to_lowercase().chain(s[c.len_utf8()..].chars()).collect()
        }
        _ => s.to_owned(),
    }
}

// ---- TOML ----

fn parse_toml(text: &str) -> Result<Node, Vec<Problem>> {
    let (table, errors) = toml::de::DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|e| syntax_problem(e.message(), e.span().unwrap_or(0..0)))
            .collect());
    }
    let span = table.span();
    Ok(Node::new(span, toml_table(table.into_inner())))
}

fn toml_table(table: toml::de::DeTable<'_>) -> Kind {
    let mut entries: Vec<(Key, Node)> = table
        .into_iter()
        .map(|(k, v)| {
            let key = Key {
                span: k.span(),
                name: k.into_inner().into_owned(),
            };
            (key, toml_value(v))
        })
        .collect();
    // The parser keeps tables sorted by key; plans care about the order written.
    entries.sort_by_key(|(k, _)| k.span.start);
    Kind::Map(entries)
}

fn toml_value(value: toml::Spanned<toml::de::DeValue<'_>>) -> Node {
    use toml::de::DeValue;
    let span = value.span();
    let kind = match value.into_inner() {
        DeValue::String(s) => Kind::Str(s.into_owned()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Kind::Int(n),
            Err(_) => Kind::Other("an integer out of range"),
        },
        DeValue::Float(f) => match f.as_str().parse::<f64>() {
            Ok(x) => Kind::Float(x),
            Err(_) => Kind::Other("a float"),
        },
        DeValue::Boolean(b) => Kind::Bool(b),
        DeValue::Datetime(_) => Kind::Other("a date-time"),
        DeValue::Array(items) => Kind::Array(items.into_iter().map(toml_value).collect()),
        DeValue::Table(t) => toml_table(t),
    };
    Node::new(span, kind)
}

// ---- JSON ----

fn parse_json(text: &str) -> Result<Node, Vec<Problem>> {
    use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};
    let options = ParseOptions {
        allow_comments: true,
        allow_loose_object_property_names: false,
        allow_trailing_commas: true,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    match parse_to_ast(text, &CollectOptions::default(), &options) {
        Ok(result) => match result.value {
            Some(value) => json_value(value).map_err(|p| vec![p]),
            None => Err(vec![Problem::new("the file holds no JSON value")]),
        },
        Err(e) => {
            let r = e.range();
            Err(vec![syntax_problem(&e.kind().to_string(), r.start..r.end)])
        }
    }
}

fn json_value(value: jsonc_parser::ast::Value<'_>) -> Result<Node, Problem> {
    use jsonc_parser::ast::{ObjectPropName, Value};
    let range = |r: jsonc_parser::common::Range| r.start..r.end;
    Ok(match value {
        Value::StringLit(s) => Node::new(range(s.range), Kind::Str(s.value.into_owned())),
        Value::NumberLit(n) => {
            let kind = if let Ok(i) = n.value.parse::<i64>() {
                Kind::Int(i)
            } else if let Ok(f) = n.value.parse::<f64>() {
                Kind::Float(f)
            } else {
                return Err(syntax_problem("invalid number", range(n.range)));
            };
            Node::new(range(n.range), kind)
        }
        Value::BooleanLit(b) => Node::new(range(b.range), Kind::Bool(b.value)),
        Value::NullKeyword(n) => Node::new(range(n.range), Kind::Null),
        Value::Array(a) => Node::new(
            range(a.range),
            Kind::Array(
                a.elements
                    .into_iter()
                    .map(json_value)
                    .collect::<Result<_, _>>()?,
            ),
        ),
        Value::Object(o) => {
            let mut entries = Vec::with_capacity(o.properties.len());
            for prop in o.properties {
                let key = match prop.name {
                    ObjectPropName::String(s) => Key {
                        span: range(s.range),
                        name: s.value.into_owned(),
                    },
                    ObjectPropName::Word(w) => Key {
                        span: range(w.range),
                        name: w.value.to_owned(),
                    },
                };
                entries.push((key, json_value(prop.value)?));
            }
            Node::new(range(o.range), Kind::Map(entries))
        }
    })
}

// ---- YAML ----

fn parse_yaml(text: &str) -> Result<Node, Vec<Problem>> {
    match serde_saphyr::from_str::<serde_saphyr::Spanned<Yaml>>(text) {
        Ok(root) => yaml_node(root, text).map_err(|p| vec![p]),
        Err(e) => {
            let e = e.without_snippet();
            let span = e.location().map_or(0..0, |loc| location_span(&loc, text));
            let options = serde_saphyr::render_options! {
                snippets: serde_saphyr::SnippetMode::Off,
            };
            let message = e.render_with_options(options);
            let message = strip_location_suffix(&message);
            Err(vec![syntax_problem(message, span)])
        }
    }
}

/// The rendered YAML message ends with " at line L column C"; the label shows that.
fn strip_location_suffix(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i])
}

fn location_span(loc: &serde_saphyr::Location, text: &str) -> Span {
    let span = loc.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(start), Some(len)) => {
            let start = usize::try_from(start).unwrap_or(text.len()).min(text.len());
            let len = usize::try_from(len).unwrap_or(0);
            start..(start + len).min(text.len())
        }
        _ => {
            // Fall back on line and column (1-based, in characters).
            let line = usize::try_from(loc.line()).unwrap_or(1).max(1);
            let column = usize::try_from(loc.column()).unwrap_or(1).max(1);
            let line_start: usize = text
                .split_inclusive('\n')
                .take(line - 1)
                .map(str::len)
                .sum();
            let offset = text[line_start.min(text.len())..]
                .char_indices()
                .nth(column - 1)
                .map_or(text.len(), |(i, _)| line_start + i);
            offset..offset
        }
    }
}

fn yaml_node(node: serde_saphyr::Spanned<Yaml>, text: &str) -> Result<Node, Problem> {
    let span = location_span(&node.referenced, text);
    let kind = match node.value {
        Yaml::Null => Kind::Null,
        Yaml::Bool(b) => Kind::Bool(b),
        Yaml::Int(i) => Kind::Int(i),
        Yaml::Float(f) => Kind::Float(f),
        Yaml::Str(s) => Kind::Str(s),
        Yaml::Seq(items) => Kind::Array(
            items
                .into_iter()
                .map(|i| yaml_node(i, text))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let key_span = location_span(&k.referenced, text);
                let name = match k.value {
                    Yaml::Str(s) => s,
                    Yaml::Int(i) => i.to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    _ => {
                        return Err(Problem::at(
                            &key_span,
                            "keys must be strings",
                            "this key is not a string",
                        ));
                    }
                };
                out.push((
                    Key {
                        name,
                        span: key_span,
                    },
                    yaml_node(v, text)?,
                ));
            }
            Kind::Map(out)
        }
    };
    Ok(Node::new(span, kind))
}

/// A YAML value whose children keep their locations.
enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<serde_saphyr::Spanned<Yaml>>),
    Map(Vec<(serde_saphyr::Spanned<Yaml>, serde_saphyr::Spanned<Yaml>)>),
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Yaml, D::Error> {
        deserializer.deserialize_any(YamlVisitor)
    }
}

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Yaml;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
        Yaml::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Yaml, E> {
        Ok(Yaml::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Yaml, E> {
        Ok(Yaml::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Yaml, E> {
        Ok(i64::try_from(v).map_or(Yaml::Float(v as f64), Yaml::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Yaml, E> {
        Ok(Yaml::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Yaml, E> {
        Ok(Yaml::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Yaml, E> {
        Ok(Yaml::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yaml, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Yaml::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yaml, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Yaml::Map(entries))
    }
}
