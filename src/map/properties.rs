//! Property tests over the readers of `fanout map`'s option values: whatever a user types,
//! each gives a value or an error to show, never a panic.

use proptest::prelude::*;

use super::*;

/// Text made of what option values are made of, and more.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::string::string_regex(r"[-+%.,:/=0-9a-zA-Z{}()\[\]\\*?^$ é€\t\n]{0,16}")
            .expect("a valid pattern"),
        // Numbers with units, signs and separators, long enough to overflow.
        proptest::string::string_regex(r"[-+%.,:0-9eEkKmMgGtTpPsShHdDwy]{0,40}")
            .expect("a valid pattern"),
    ]
}

proptest! {
    #[test]
    fn option_values_are_read_or_refused(text in value(), other in value(), cpus in 0usize..64) {
        let _ = parse_jobs(&text, cpus, 10);
        let _ = parse_size("--block", &text);
        let _ = parse_count("-N", &text);
        let _ = parse_load(&text, cpus);
        let _ = parse_delay(&text);
        let _ = parse_seconds("--timeout", &text);
        let _ = parse_timeout(&text);
        let _ = parse_halt(&text);
        let _ = parse_block_size(&text);
        let _ = parse_delimiter(&text);
        let _ = Trim::parse(&text);
        let _ = HeaderPattern::parse(&text);
        let _ = UserReplacement::parse(&text);
        let _ = Parens::parse(&text);
        let _ = RecordPatterns::new(Some(&text), Some(&other));
        let _ = record_marks(Some(&text), Some(&other));
        let _ = local_jobs(&[text.clone(), other.clone()]);
        let _ = GroupBy::parse(&text, &other, b"a,b\n");
        let _ = Shard::parse(ShardKind::Hash, &text, &other, b"a,b\n");
        let _ = Shard::parse(ShardKind::Bin, &text, ",", b"");
    }
}
