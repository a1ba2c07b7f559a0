//! Is a snippet valid Dockerfile? Every After imgscope prints must be (or it
//! is not printed, and the suggestion says why): no text that only the image
//! history has (`COPY file:<hash> in /dest`), no placeholder (`<base image>`),
//! no elided list (`…`), no comment after an instruction, and every line that
//! does not continue the one before starts with a Dockerfile instruction.

/// The Dockerfile instructions.
const KEYWORDS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// `file:<hex>` / `dir:<hex>` / `multi:<hex>`: a source the legacy builder
/// records in the history instead of the file names.
fn history_source(word: &str) -> bool {
    ["file:", "dir:", "multi:"].iter().any(|p| {
        word.strip_prefix(p)
            .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
    })
}

/// `<something>` with a letter after `<`: a placeholder for the user to fill.
fn placeholder(line: &str) -> bool {
    let b = line.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'<'
            && b.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic())
            && line[i + 1..]
                .find('>')
                .is_some_and(|e| line[i + 1..i + 1 + e].bytes().all(|x| x != b'<'))
            && (i == 0 || b[i - 1] == b' ')
    })
}

/// A `#` that starts a comment after other text on the line.
fn trailing_comment(line: &str) -> bool {
    let b = line.as_bytes();
    b.iter()
        .enumerate()
        .any(|(i, &c)| c == b'#' && i > 0 && b[i - 1].is_ascii_whitespace())
}

/// Why `snippet` is not valid Dockerfile (None when it is).
pub fn invalid(snippet: &str) -> Option<String> {
    let mut continued = false;
    for (n, raw) in snippet.lines().enumerate() {
        let line = raw.trim();
        let at = n + 1;
        if line.is_empty() {
            continued = false;
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some(w) = line.split_whitespace().find(|w| history_source(w)) {
            return Some(format!(
                "line {at} would need `{w}`, which only the image history records, not the \
                 Dockerfile (run with --dockerfile to cite the real sources)"
            ));
        }
        if line.contains('…') {
            return Some(format!("line {at} would elide a list (`…`)"));
        }
        if placeholder(line) {
            return Some(format!(
                "line {at} would hold a placeholder for you to fill in: {line}"
            ));
        }
        if trailing_comment(line) {
            return Some(format!(
                "line {at} would put a comment after an instruction"
            ));
        }
        if !continued {
            let kw = line.split_whitespace().next().unwrap_or("");
            if !KEYWORDS.contains(&kw.to_ascii_uppercase().as_str()) {
                return Some(format!("line {at} is not a Dockerfile instruction: {line}"));
            }
        }
        continued = line.ends_with('\\');
    }
    None
}

#[cfg(test)]
mod tests {
    use super::invalid;

    #[test]
    fn valid_snippets() {
        assert_eq!(invalid("RUN apt-get update && \\\n    apt-get clean"), None);
        assert_eq!(invalid("# a note\nCOPY --chmod=755 a /b"), None);
        assert_eq!(
            invalid("FROM debian:bookworm AS build\nRUN make 2>&1 </dev/null"),
            None
        );
        assert_eq!(invalid("RUN echo ${#x}"), None);
    }

    #[test]
    fn invalid_snippets() {
        assert!(invalid("COPY file:21cc0a in /usr/local/bin/gen.py")
            .unwrap()
            .contains("image history"));
        assert!(invalid("FROM x  # layer 0: ADD")
            .unwrap()
            .contains("comment"));
        assert!(invalid("FROM <base image>")
            .unwrap()
            .contains("placeholder"));
        assert!(invalid("RUN rm -rf /a …").unwrap().contains("elide"));
        assert!(invalid("rm -rf /a").unwrap().contains("not a Dockerfile"));
        assert!(invalid("RUN x && \\\n    rm -rf /a  # and 3 more")
            .unwrap()
            .contains("comment"));
    }
}
