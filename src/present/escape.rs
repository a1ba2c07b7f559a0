//! Terminal hygiene: strings that came from the image (paths, commands,
//! tags, labels) may hold control characters — ESC sequences that recolour,
//! retitle or clear the terminal, newlines that forge output lines, bidi
//! overrides that reorder what is shown. Every text, Markdown or GitHub
//! output shows them escaped (`\x1b`, `\n`, `\u{202e}`); JSON keeps the exact
//! bytes (serde escapes them).

use std::borrow::Cow;
use std::fmt::Write;

/// Characters never written as themselves: C0 and C1 controls, DEL, and the
/// invisible marks that change the direction or order of shown text.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape_with(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| unsafe_char(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !unsafe_char(c) || keep(c) {
            o.push(c);
            continue;
        }
        match c {
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x100 => {
                let _ = write!(o, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(o)
}

/// One line: every control character escaped, newlines and tabs included.
pub fn line(s: &str) -> Cow<'_, str> {
    escape_with(s, |_| false)
}

/// A block of lines (a rendered report, a Dockerfile snippet): newlines kept,
/// every other control character escaped.
pub fn block(s: &str) -> Cow<'_, str> {
    escape_with(s, |c| c == '\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(line("a\x1b[31mb\nc\td\r"), "a\\x1b[31mb\\nc\\td\\r");
        assert_eq!(line("\u{9b}x\u{7f}"), "\\x9bx\\x7f");
        assert_eq!(line("abc\u{202e}txt.exe"), "abc\\u{202e}txt.exe");
        assert_eq!(block("one\ntwo\x07"), "one\ntwo\\x07");
        assert!(matches!(line("/usr/bin/ls é ✓"), Cow::Borrowed(_)));
    }
}
