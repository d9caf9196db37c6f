//! Text that carries bytes which are not UTF-8. Inputs (lines of a file, of stdin) may hold
//! any bytes, a file name in a legacy encoding say, and must reach the command as they
//! were. fanout works on them as text: each byte of a sequence that is not UTF-8 stands as
//! one character of Unicode's last private-use plane, U+10FF80 + (byte - 0x80), and
//! becomes that byte again where the text leaves fanout (a command's arguments and
//! environment, what fanout prints of commands and inputs). Text that is UTF-8 goes
//! through as it is; those 128 characters themselves, read as UTF-8 from an input, are
//! carried as the four bytes they are made of, so that every input comes back whole. (In a
//! plan file, which is text and not decoded, they stand for bytes.)

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
use std::path::Path;

/// The first of the characters that stand for bytes 0x80..=0xFF.
const BASE: u32 = 0x10_FF00;

/// `bytes` as text: UTF-8 as it is, each other byte as the character standing for it.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && !has_stand_ins(text)
    {
        return Cow::Borrowed(text);
    }
    let mut text = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match byte_of(c) {
                // One of the stand-ins itself: its own bytes, each stood in for.
                Some(_) => {
                    let mut utf8 = [0; 4];
                    for &byte in c.encode_utf8(&mut utf8).as_bytes() {
                        text.push(stand_in(byte));
                    }
                }
                None => text.push(c),
            }
        }
        for &byte in chunk.invalid() {
            text.push(stand_in(byte));
        }
    }
    Cow::Owned(text)
}

/// A path as text, its bytes carried as [`decode`] carries them.
pub fn from_path(path: &Path) -> String {
    decode(path.as_os_str().as_bytes()).into_owned()
}

/// [`decode`], owned.
pub fn decode_owned(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) if !has_stand_ins(&text) => text,
        Ok(text) => decode(text.as_bytes()).into_owned(),
        Err(err) => decode(err.as_bytes()).into_owned(),
    }
}

/// Whether `text` holds a stand-in. Each is 4 bytes of UTF-8 beginning with 0xF4, as only
/// characters from U+100000 up do: text without that byte holds none, which is quick to
/// tell.
fn has_stand_ins(text: &str) -> bool {
    text.as_bytes().contains(&0xF4) && text.chars().any(|c| byte_of(c).is_some())
}

fn stand_in(byte: u8) -> char {
    char::from_u32(BASE + u32::from(byte)).expect("a character of plane 16")
}

/// The character that is byte `byte` in text: itself below 0x80, else its stand-in (an
/// escape such as `-d '\351'` names a byte).
pub fn byte_char(byte: u8) -> char {
    match byte {
        0..0x80 => char::from(byte),
        _ => stand_in(byte),
    }
}

/// The byte `c` stands for, if it stands for one.
fn byte_of(c: char) -> Option<u8> {
    let code = u32::from(c);
    (BASE + 0x80..=BASE + 0xFF)
        .contains(&code)
        .then(|| (code - BASE) as u8)
}

/// `text` as the bytes it stands for.
pub fn encode(text: &str) -> Cow<'_, [u8]> {
    if !has_stand_ins(text) {
        return Cow::Borrowed(text.as_bytes());
    }
    let mut bytes = Vec::with_capacity(text.len());
    let mut utf8 = [0; 4];
    for c in text.chars() {
        match byte_of(c) {
            Some(byte) => bytes.push(byte),
            None => bytes.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes()),
        }
    }
    Cow::Owned(bytes)
}

/// Writes `text` to stderr as the bytes it stands for, as GNU parallel shows an input
/// or a command in its messages. A closed stderr is not an error to report.
pub fn eprint(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_all(&encode(text));
}

/// How many bytes `text` stands for (a command line's length, say).
pub fn encoded_len(text: &str) -> usize {
    // A stand-in is 4 bytes of UTF-8 for 1 byte.
    match has_stand_ins(text) {
        true => text.len() - 3 * text.chars().filter(|&c| byte_of(c).is_some()).count(),
        false => text.len(),
    }
}

/// `text` as the bytes it stands for, for a command's argument, environment or path.
pub fn to_os(text: &str) -> OsString {
    os_str(text).into_owned()
}

/// [`to_os`], borrowed when `text` stands for no byte that is not UTF-8 (a task's every
/// argument goes through here as it spawns).
pub fn os_str(text: &str) -> Cow<'_, OsStr> {
    match encode(text) {
        Cow::Borrowed(bytes) => Cow::Borrowed(OsStr::from_bytes(bytes)),
        Cow::Owned(bytes) => Cow::Owned(OsString::from_vec(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_utf8_come_back_as_they_were() {
        let raw: &[u8] = b"caf\xe9 \xff\xfe/na\xefve.txt \xe2\x82 end";
        let text = decode(raw);
        assert!(text.starts_with("caf"));
        assert!(text.ends_with(" end"));
        assert_eq!(encode(&text), raw);
        assert_eq!(decode_owned(raw.to_vec()), text);
        assert_eq!(to_os(&text).into_vec(), raw);
        assert_eq!(encoded_len(&text), raw.len());
        // Text operations see one character per stray byte, and the rest as it was.
        assert_eq!(text.rsplit_once('/').unwrap().0.chars().count(), 7);
    }

    #[test]
    fn utf8_goes_through_untouched() {
        // Even the stand-ins themselves, read from an input.
        let stand_ins = "a\u{10FFE9}b\u{10FF80}";
        assert_eq!(encode(&decode(stand_ins.as_bytes())), stand_ins.as_bytes());
        let owned = decode_owned(stand_ins.as_bytes().to_vec());
        assert_eq!(encode(&owned), stand_ins.as_bytes());
        assert_eq!(encoded_len(&owned), stand_ins.len());
        let path = Path::new(OsStr::from_bytes(b"/tmp/caf\xe9"));
        assert_eq!(to_os(&from_path(path)), path.as_os_str());
        for text in ["", "plain", "naïve — ünïcødé ✓ 𝄞", "\u{10FF7F}"] {
            assert!(matches!(decode(text.as_bytes()), Cow::Borrowed(t) if t == text));
            assert!(matches!(encode(text), Cow::Borrowed(b) if b == text.as_bytes()));
        }
    }

    #[test]
    fn every_byte_has_its_own_stand_in() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(encode(&decode(&all)), all);
    }
}
