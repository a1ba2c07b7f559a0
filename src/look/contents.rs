//! A stored file's contents as a viewer shows them: what a path leads to
//! ([`target`]: a symlink's target, the file a hard link shares), a capped
//! part of its bytes read again from its layer ([`read_part`]: at most
//! [`PAGE`] at a time, a cancel flag checked at every read), whether they
//! are text or binary ([`classify`]), and their rows ([`Contents`]): text
//! lines with tabs expanded and every control character or byte that is
//! not UTF-8 escaped (`\x1b`, `\xff`), or a hex dump (offset, hex, ASCII).
//! Nothing from the file reaches a terminal unescaped.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::xxh3::Xxh3;

use super::read::{changed, layer_loc, read_some, with_entry, with_layer};
use super::{lookup, resolve, show, stored, LookError, Stored};
use crate::error::{Error, Result};
use crate::load::index::{Index, InodeId, NodeId, NodeKind, NO_INODE};
use crate::load::LoadOptions;
use crate::present::escape;

/// Most bytes read at a time (the first part shown, each further part).
pub const PAGE: u64 = 1 << 20;

/// Bytes per hex dump row.
pub const HEX_WIDTH: usize = 16;

/// How far a text's tab stops are apart.
const TAB: usize = 8;

/// What a viewer opens: the path as asked, how it leads to stored bytes,
/// and those bytes' place (or why there are none).
#[derive(Debug, Clone)]
pub struct Target {
    /// Absolute, as bytes.
    pub path: Vec<u8>,
    /// The layer "as of".
    pub layer: usize,
    /// How the path leads to the bytes, one line each, escaped: `symlink →
    /// target`, `hard link: shares /path`.
    pub via: Vec<String>,
    /// The stored file, or why the path has none (a dangling symlink).
    pub file: std::result::Result<Stored, LookError>,
}

/// What node `id` shows as of `layer`: a regular file's stored bytes; a
/// symlink's target and the file it leads to (inside the image); a hard
/// link's shared file. A directory, a device, a path not present at that
/// layer is an error.
pub fn target(index: &Index, id: NodeId, layer: usize) -> std::result::Result<Target, LookError> {
    let path = index.path(id);
    // The node itself, last component not followed: removed, missing.
    let node = lookup(index, &path, layer, false)?;
    let c = *index.state_at(node, layer).ok_or(LookError::NotFound {
        path: path.clone(),
        layer,
    })?;
    let mut via = Vec::new();
    match c.kind {
        NodeKind::Symlink => {
            let to = index.link(&c).unwrap_or_default();
            via.push(format!("symlink → {}", show(to)));
            let file = resolve(index, &path, Some(layer)).map(|v| {
                let st = stored(index, v.change.inode);
                if v.node != node {
                    via.push(format!("which is {}", show(&index.path(v.node))));
                }
                st
            });
            return Ok(Target {
                path,
                layer,
                via,
                file,
            });
        }
        NodeKind::File if c.inode == NO_INODE => {
            return Err(LookError::DanglingHardLink { path });
        }
        NodeKind::File => {}
        NodeKind::Dir => return Err(LookError::IsDirectory { path }),
        k => return Err(LookError::NotAFile { path, kind: k }),
    }
    let st = stored(index, c.inode);
    let mut shown = &path[1..];
    if let Some(to) = index.link(&c) {
        via.push(format!("hard link: shares /{}", show(to)));
        shown = to;
    }
    if st.path != shown || st.layer != c.layer as usize {
        via.push(format!(
            "its bytes: stored by layer {} at /{}",
            st.layer,
            show(&st.path)
        ));
    }
    Ok(Target {
        path,
        layer,
        via,
        file: Ok(st),
    })
}

/// The version a layer stored (`inode`), as a target: the history's rows.
pub fn version(index: &Index, inode: InodeId) -> Target {
    let st = stored(index, inode);
    let mut path = b"/".to_vec();
    path.extend_from_slice(&st.path);
    Target {
        path,
        layer: st.layer,
        via: Vec::new(),
        file: Ok(st),
    }
}

/// A reader that fails once `cancel` is set: a cancelled read stops at
/// the next read of the layer, wherever the walk is.
struct Cancellable<'a> {
    inner: &'a mut dyn Read,
    cancel: &'a AtomicBool,
}

impl Read for Cancellable<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("cancelled"));
        }
        self.inner.read(buf)
    }
}

/// Up to `max` bytes of stored file `st` of IMAGE from byte `offset` on,
/// read from its layer blob alone (see [`super::read::with_layer`]): the
/// bytes before `offset` are skipped as they pass, nothing after the part
/// is read. A part that is the whole file is checked against the size and
/// hash the index recorded. None when `cancel` was set meanwhile.
pub fn read_part(
    image: &str,
    opts: &LoadOptions,
    index: &Index,
    st: &Stored,
    offset: u64,
    max: u64,
    cancel: &AtomicBool,
) -> Result<Option<Vec<u8>>> {
    let lloc = layer_loc(image, index, st.layer);
    let r = with_layer(image, opts, index, st.layer, |blob| {
        read_part_in(blob, st, &lloc, offset, max, cancel)
    });
    if cancel.load(Ordering::Relaxed) {
        return Ok(None);
    }
    r
}

/// [`read_part`] from the layer blob `blob` (compressed or not), `loc`
/// naming it in errors.
pub fn read_part_in(
    blob: &mut dyn Read,
    st: &Stored,
    loc: &crate::error::Location,
    offset: u64,
    max: u64,
    cancel: &AtomicBool,
) -> Result<Option<Vec<u8>>> {
    let mut blob = Cancellable {
        inner: blob,
        cancel,
    };
    let r = with_entry(&mut blob, st, loc, |entry, ploc| {
        part(entry, st, offset, max).map_err(|e| match e {
            Part::Io(e) => Error::format(ploc.clone(), format!("unreadable layer ({e})")),
            Part::Changed => changed(ploc),
        })
    });
    if cancel.load(Ordering::Relaxed) {
        return Ok(None);
    }
    r.map(Some)
}

enum Part {
    Io(std::io::Error),
    Changed,
}

/// Up to `max` bytes of `entry` from `offset`, checked when whole.
fn part(
    entry: &mut dyn Read,
    st: &Stored,
    offset: u64,
    max: u64,
) -> std::result::Result<Vec<u8>, Part> {
    let want = max.min(st.size.saturating_sub(offset));
    let mut buf = vec![0u8; 64 * 1024];
    let mut skip = offset;
    while skip > 0 {
        let k = read_some(entry, &mut buf[..skip.min(64 * 1024) as usize]).map_err(Part::Io)?;
        if k == 0 {
            return Err(Part::Changed);
        }
        skip -= k as u64;
    }
    let mut out = Vec::with_capacity(want as usize);
    entry.take(want).read_to_end(&mut out).map_err(Part::Io)?;
    if out.len() as u64 != want {
        return Err(Part::Changed);
    }
    if offset == 0 && want == st.size {
        // The whole file: one more read must find its end.
        if read_some(entry, &mut buf[..1]).map_err(Part::Io)? != 0 {
            return Err(Part::Changed);
        }
        let mut h = Xxh3::new();
        h.update(&out);
        if !st.hash_matches(h.digest128()) {
            return Err(Part::Changed);
        }
    }
    Ok(out)
}

/// Text or binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Binary,
}

/// How many first bytes [`classify`] looks at.
pub const SNIFF: usize = 8000;

/// Text or binary, from the first [`SNIFF`] bytes (as git decides): a NUL
/// makes binary, and so does more than one byte in ten that is neither
/// UTF-8 nor a character text holds (controls other than tab, newline,
/// carriage return, form feed, backspace and escape). A UTF-8 character
/// cut at the sample's end counts as text.
pub fn classify(bytes: &[u8]) -> Kind {
    let s = &bytes[..bytes.len().min(SNIFF)];
    if s.contains(&0) {
        return Kind::Binary;
    }
    let mut odd = 0usize;
    let mut chunks = s.utf8_chunks().peekable();
    while let Some(c) = chunks.next() {
        odd += c
            .valid()
            .chars()
            .filter(|&ch| {
                (ch.is_ascii_control()
                    && !matches!(ch, '\t' | '\n' | '\r' | '\x0c' | '\x08' | '\x1b'))
                    || ('\u{80}'..'\u{a0}').contains(&ch)
            })
            .count();
        let cut = chunks.peek().is_none() && s.len() < bytes.len();
        if !cut || c.invalid().len() > 3 {
            odd += c.invalid().len();
        }
    }
    if odd * 10 > s.len() {
        Kind::Binary
    } else {
        Kind::Text
    }
}

/// One line of a text file as shown: tabs expanded to every 8th column,
/// every control character escaped (`\x1b`, `\r`), every byte that is not
/// UTF-8 as `\xNN`.
pub fn text_line(line: &[u8]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut col = 0usize;
    for chunk in line.utf8_chunks() {
        for (i, piece) in chunk.valid().split('\t').enumerate() {
            if i > 0 {
                let n = TAB - col % TAB;
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
            }
            let e = escape::line(piece);
            col += e.chars().count();
            out.push_str(&e);
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
            col += 4;
        }
    }
    out
}

/// One hex dump row: the offset, [`HEX_WIDTH`] bytes in hex (a gap after
/// the eighth), and the same bytes as ASCII (`.` for any other byte).
pub fn hex_row(offset: u64, bytes: &[u8]) -> String {
    let mut s = format!("{offset:08x} ");
    for i in 0..HEX_WIDTH {
        if i % 8 == 0 {
            s.push(' ');
        }
        match bytes.get(i) {
            Some(b) => s.push_str(&format!("{b:02x} ")),
            None => s.push_str("   "),
        }
    }
    s.push(' ');
    s.push('|');
    s.extend(bytes.iter().map(|&b| {
        if (0x20..0x7f).contains(&b) {
            b as char
        } else {
            '.'
        }
    }));
    s.push('|');
    s
}

/// The part of a file read so far, as rows: text lines or hex rows.
#[derive(Debug, Clone)]
pub struct Contents {
    /// The whole file's size.
    pub size: u64,
    /// Its first bytes (all of them once complete).
    pub bytes: Vec<u8>,
    pub kind: Kind,
    /// Shown as a hex dump (binaries, or text on request).
    pub hex: bool,
    /// Text: each line as shown (see [`text_line`]).
    pub lines: Vec<String>,
}

impl Contents {
    /// The first part of a file of `size` bytes.
    pub fn new(size: u64, bytes: Vec<u8>) -> Contents {
        let kind = classify(&bytes);
        let mut c = Contents {
            size,
            bytes,
            kind,
            hex: kind == Kind::Binary,
            lines: Vec::new(),
        };
        c.split();
        c
    }

    /// Append the next part read.
    pub fn extend(&mut self, more: &[u8]) {
        self.bytes.extend_from_slice(more);
        self.split();
    }

    fn split(&mut self) {
        self.lines.clear();
        if self.kind != Kind::Text {
            return;
        }
        let mut b: &[u8] = &self.bytes;
        if b.is_empty() {
            return;
        }
        if let Some(rest) = b.strip_suffix(b"\n") {
            // The last newline ends the last line; it starts none.
            if self.complete() {
                b = rest;
            }
        }
        self.lines = b.split(|&c| c == b'\n').map(text_line).collect();
    }

    /// Every byte of the file is here.
    pub fn complete(&self) -> bool {
        self.bytes.len() as u64 >= self.size
    }

    /// Rows as shown: lines, or hex rows.
    pub fn rows(&self) -> usize {
        if self.hex {
            self.bytes.len().div_ceil(HEX_WIDTH)
        } else {
            self.lines.len()
        }
    }

    /// Row `i` as shown.
    pub fn row(&self, i: usize) -> String {
        if self.hex {
            let at = i * HEX_WIDTH;
            let end = (at + HEX_WIDTH).min(self.bytes.len());
            hex_row(at as u64, self.bytes.get(at..end).unwrap_or_default())
        } else {
            self.lines.get(i).cloned().unwrap_or_default()
        }
    }

    /// Switch between the text and the hex view (a binary stays hex).
    pub fn toggle_hex(&mut self) {
        if self.kind == Kind::Text {
            self.hex = !self.hex;
        }
    }

    /// The next row after `from` (before it when `!forward`), wrapping
    /// around, holding `query` (see [`matches`]); `from` itself last.
    pub fn find(&self, query: &str, from: usize, forward: bool) -> Option<usize> {
        let n = self.rows();
        if n == 0 || query.is_empty() {
            return None;
        }
        (1..=n)
            .map(|d| {
                if forward {
                    (from + d) % n
                } else {
                    (from + n - d % n) % n
                }
            })
            .find(|&i| !matches(&self.row(i), query).is_empty())
    }
}

/// Where `query` occurs in `row` (byte ranges, not overlapping): ignoring
/// ASCII case when the query has no capital letter ("smart case").
pub fn matches(row: &str, query: &str) -> Vec<std::ops::Range<usize>> {
    if query.is_empty() {
        return Vec::new();
    }
    let fold = !query.chars().any(|c| c.is_ascii_uppercase());
    let (hay, needle) = if fold {
        (row.to_ascii_lowercase(), query.to_ascii_lowercase())
    } else {
        (row.to_string(), query.to_string())
    };
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = hay[at..].find(&needle) {
        out.push(at + i..at + i + needle.len());
        at += i + needle.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary() {
        assert_eq!(classify(b""), Kind::Text);
        assert_eq!(classify(b"hello\n\tworld\r\n"), Kind::Text);
        assert_eq!(classify("naïve café ✓\n".as_bytes()), Kind::Text);
        // Colour codes in a log are text.
        assert_eq!(classify(b"\x1b[31mred\x1b[0m\n"), Kind::Text);
        assert_eq!(classify(b"ELF\x00\x01"), Kind::Binary);
        assert_eq!(classify(&[0xff, 0xfe, 0x80, 0x81, b'a']), Kind::Binary);
        // Latin-1 text now and then is text, mostly bytes that are not is not.
        let mut latin = b"caf\xe9 au lait, ".repeat(5);
        latin.extend_from_slice(b"and more words to read");
        assert_eq!(classify(&latin), Kind::Text);
        // A character cut at the sample's end does not count.
        let mut long = "é".repeat(SNIFF / 2 + 10).into_bytes();
        long.truncate(SNIFF + 1);
        assert_eq!(classify(&long), Kind::Text);
        // A NUL after the sample is not looked at.
        let mut late = vec![b'a'; SNIFF];
        late.push(0);
        assert_eq!(classify(&late), Kind::Text);
    }

    #[test]
    fn lines_escape_what_would_reach_the_terminal() {
        assert_eq!(text_line(b"a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(text_line(b"x\ry"), "x\\ry");
        assert_eq!(text_line(b"\x07bell\x9b"), "\\x07bell\\x9b");
        assert_eq!(text_line("rtl\u{202e}txt".as_bytes()), "rtl\\u{202e}txt");
        assert_eq!(text_line(b"\tx\tyy"), "        x       yy");
        assert_eq!(text_line(b"ab\tc"), "ab      c");
        assert_eq!(text_line("é\tz".as_bytes()), "é       z");
    }

    #[test]
    fn hex_rows() {
        let row = hex_row(16, b"\x1b[2JHello\x00\xff");
        assert_eq!(
            row,
            "00000010  1b 5b 32 4a 48 65 6c 6c  6f 00 ff                 |.[2JHello..|"
        );
        assert!(!row.contains('\x1b'));
    }

    #[test]
    fn contents_split_into_lines_as_they_come() {
        let mut c = Contents::new(12, b"one\ntw".to_vec());
        assert_eq!(c.lines, ["one", "tw"]);
        assert!(!c.complete());
        c.extend(b"o\nthree\n");
        assert!(c.complete());
        assert_eq!(c.lines, ["one", "two", "three"]);
        assert_eq!(c.rows(), 3);
        assert_eq!(Contents::new(0, Vec::new()).rows(), 0);
        assert_eq!(Contents::new(1, b"\n".to_vec()).lines, [""]);
        let b = Contents::new(20, vec![0u8; 20]);
        assert!(b.hex);
        assert_eq!(b.rows(), 2);
        assert!(b.row(1).starts_with("00000010  00 00 00 00 "));
    }

    #[test]
    fn search_is_smart_case_and_wraps() {
        let c = Contents::new(27, b"alpha\nBeta\ngamma\nbeta max\n".to_vec());
        assert_eq!(c.find("beta", 0, true), Some(1));
        assert_eq!(c.find("beta", 1, true), Some(3));
        assert_eq!(c.find("beta", 3, true), Some(1));
        assert_eq!(c.find("Beta", 1, true), Some(1));
        assert_eq!(c.find("beta", 1, false), Some(3));
        assert_eq!(c.find("nothing", 0, true), None);
        assert_eq!(matches("a beta BETA", "beta"), [2..6, 7..11]);
        assert_eq!(
            matches("a beta BETA", "BETA"),
            vec![std::ops::Range { start: 7, end: 11 }]
        );
    }
}
