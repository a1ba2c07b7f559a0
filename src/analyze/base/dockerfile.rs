//! The boundary from `--dockerfile`: its layer-making instructions matched
//! against the image's last layers.

use super::{one_line, StepKind};
use crate::load::image::{display_command, LayerRef};

fn step_kind(created_by: &str) -> Option<Option<StepKind>> {
    let cmd = display_command(created_by);
    let word = cmd.split_whitespace().next()?;
    Some(match word.to_ascii_uppercase().as_str() {
        "RUN" => Some(StepKind::Run),
        "COPY" | "ADD" => Some(StepKind::Copy),
        "WORKDIR" => Some(StepKind::Workdir),
        _ => None,
    })
}

/// How many of the last layers the Dockerfile's steps made, walking both
/// from the end (a WORKDIR that made no layer is skipped), and a note when
/// the history disagrees with the Dockerfile.
pub(super) fn match_dockerfile(refs: &[&LayerRef], steps: &[StepKind]) -> (usize, Option<String>) {
    let n = refs.len();
    let (mut i, mut j) = (n, steps.len());
    while j > 0 && i > 0 {
        let d = steps[j - 1];
        // None: no command recorded, matches anything.
        let k = step_kind(&refs[i - 1].created_by);
        if d == StepKind::Workdir && k != Some(Some(StepKind::Workdir)) {
            j -= 1;
            continue;
        }
        if let Some(k) = k {
            if k != Some(d) {
                let count = steps.iter().filter(|s| **s != StepKind::Workdir).count();
                let user = count.min(n);
                let cmd = display_command(&refs[i - 1].created_by);
                return (
                    user,
                    Some(format!(
                        "the history does not match the Dockerfile at layer {} ({}): the instructions were counted as written",
                        i - 1,
                        one_line(&cmd, 60)
                    )),
                );
            }
        }
        i -= 1;
        j -= 1;
    }
    let left = steps[..j].iter().any(|s| *s != StepKind::Workdir);
    let note = left.then(|| {
        format!("the Dockerfile has more layer-making instructions than the image has layers ({n})")
    });
    (n - i, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_matching() {
        let mk = |c: &str| LayerRef {
            member: String::new(),
            digest: String::new(),
            diff_id: String::new(),
            created_by: c.into(),
        };
        let ls = [
            mk("/bin/sh -c #(nop) ADD file:ab in / "),
            mk("/bin/sh -c apt-get update"),
            mk("/bin/sh -c make"),
            mk("/bin/sh -c #(nop) COPY file:cd in /app "),
        ];
        let refs: Vec<&LayerRef> = ls.iter().collect();
        use StepKind::*;
        assert_eq!(match_dockerfile(&refs, &[Run, Workdir, Copy]), (2, None));
        let (user, note) = match_dockerfile(&refs, &[Copy, Copy]);
        assert_eq!(user, 2);
        assert!(note.unwrap().contains("does not match"));
    }
}
