//! A line diff of two versions of a text file ([`lines`]): hunks with
//! three lines of context, as `diff -u` shows them, each row numbered in
//! the old and the new version. Myers' algorithm (the `similar` crate),
//! with a deadline: a huge, very different pair gives a coarser diff, never
//! a hang.

use std::time::{Duration, Instant};

use similar::{capture_diff_slices_deadline, group_diff_ops, Algorithm, DiffTag};

/// Lines of context around each change.
pub const CONTEXT: usize = 3;

/// How long the diff may search for the smallest one.
const DEADLINE: Duration = Duration::from_secs(2);

/// One row of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A hunk's header: `@@ -old,len +new,len @@`.
    Hunk(String),
    /// A line both versions have (line numbers from 1).
    Same {
        old: usize,
        new: usize,
        text: String,
    },
    /// A line only the old version has.
    Old { old: usize, text: String },
    /// A line only the new version has.
    New { new: usize, text: String },
}

/// The rows of the diff from `old` to `new` (lines as shown); empty when
/// they are the same.
pub fn lines(old: &[String], new: &[String]) -> Vec<Row> {
    let ops =
        capture_diff_slices_deadline(Algorithm::Myers, old, new, Some(Instant::now() + DEADLINE));
    let mut rows = Vec::new();
    for group in group_diff_ops(ops, CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let o = first.old_range().start..last.old_range().end;
        let n = first.new_range().start..last.new_range().end;
        rows.push(Row::Hunk(format!(
            "@@ -{},{} +{},{} @@",
            o.start + 1,
            o.len(),
            n.start + 1,
            n.len()
        )));
        for op in group {
            let (tag, or, nr) = op.as_tag_tuple();
            match tag {
                DiffTag::Equal => rows.extend(or.zip(nr).map(|(a, b)| Row::Same {
                    old: a + 1,
                    new: b + 1,
                    text: old[a].clone(),
                })),
                DiffTag::Delete | DiffTag::Replace | DiffTag::Insert => {
                    rows.extend(or.map(|a| Row::Old {
                        old: a + 1,
                        text: old[a].clone(),
                    }));
                    rows.extend(nr.map(|b| Row::New {
                        new: b + 1,
                        text: new[b].clone(),
                    }));
                }
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.lines().map(String::from).collect()
    }

    #[test]
    fn hunks_with_context() {
        let old = v("a\nb\nc\nd\ne\nf\ng\nh\ni\nj");
        let new = v("a\nb\nc\nd\nE\nf\ng\nh\ni\nj\nk");
        let rows = lines(&old, &new);
        assert_eq!(
            rows,
            vec![
                Row::Hunk("@@ -2,9 +2,10 @@".into()),
                Row::Same {
                    old: 2,
                    new: 2,
                    text: "b".into()
                },
                Row::Same {
                    old: 3,
                    new: 3,
                    text: "c".into()
                },
                Row::Same {
                    old: 4,
                    new: 4,
                    text: "d".into()
                },
                Row::Old {
                    old: 5,
                    text: "e".into()
                },
                Row::New {
                    new: 5,
                    text: "E".into()
                },
                Row::Same {
                    old: 6,
                    new: 6,
                    text: "f".into()
                },
                Row::Same {
                    old: 7,
                    new: 7,
                    text: "g".into()
                },
                Row::Same {
                    old: 8,
                    new: 8,
                    text: "h".into()
                },
                Row::Same {
                    old: 9,
                    new: 9,
                    text: "i".into()
                },
                Row::Same {
                    old: 10,
                    new: 10,
                    text: "j".into()
                },
                Row::New {
                    new: 11,
                    text: "k".into()
                },
            ]
        );
        assert!(lines(&old, &old).is_empty());
        assert_eq!(lines(&[], &v("x")).len(), 2);
    }
}
