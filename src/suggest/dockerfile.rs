//! Reading a Dockerfile (with the `parse-dockerfile` crate) and keeping what
//! the suggestions need: the instructions of the final stage that create
//! layers, with their line numbers and exact text.

use parse_dockerfile::{Command, Instruction};

/// The kind of a layer-creating step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instr {
    Run,
    Copy,
    Add,
    Workdir,
    /// Anything else (or unknown, when the history has no command).
    Other,
}

impl Instr {
    pub fn of_word(w: &str) -> Instr {
        match w.to_ascii_uppercase().as_str() {
            "RUN" => Instr::Run,
            "COPY" => Instr::Copy,
            "ADD" => Instr::Add,
            "WORKDIR" => Instr::Workdir,
            _ => Instr::Other,
        }
    }
}

/// One instruction of the Dockerfile that (may) create a layer.
#[derive(Debug, Clone)]
pub struct DfInstr {
    pub instr: Instr,
    /// 1-based line of the instruction keyword.
    pub line: usize,
    /// The instruction as written (may span lines).
    pub text: String,
    /// Byte range of `text` in the Dockerfile.
    pub span: (usize, usize),
    /// RUN: the `--flag` options as written, space separated.
    pub flags: String,
    /// RUN: the shell command as written (None for exec form or heredocs,
    /// which cannot be joined with `&&` mechanically).
    pub body: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Dockerfile {
    /// The image of the final stage's `FROM` (after following stage names).
    pub base_image: String,
    /// Layer-creating instructions of the final stage, in order (including
    /// the stages it is built `FROM`).
    pub instrs: Vec<DfInstr>,
    /// The other instructions of those stages that set up the image (`ENV`,
    /// `CMD`, `USER`, …): how many of `instrs` come before each, and its text.
    pub meta: Vec<(usize, String)>,
    /// Where the final stage's `FROM` starts, when that stage is built from
    /// an image (not from another stage): a rewrite of the stage starts here.
    pub final_from: Option<usize>,
}

fn keyword_start(i: &Instruction<'_>) -> Option<usize> {
    Some(match i {
        Instruction::Add(x) => x.add.span.start,
        Instruction::Arg(x) => x.arg.span.start,
        Instruction::Cmd(x) => x.cmd.span.start,
        Instruction::Copy(x) => x.copy.span.start,
        Instruction::Entrypoint(x) => x.entrypoint.span.start,
        Instruction::Env(x) => x.env.span.start,
        Instruction::Expose(x) => x.expose.span.start,
        Instruction::From(x) => x.from.span.start,
        Instruction::Healthcheck(x) => x.healthcheck.span.start,
        Instruction::Label(x) => x.label.span.start,
        Instruction::Maintainer(x) => x.maintainer.span.start,
        Instruction::Onbuild(x) => x.onbuild.span.start,
        Instruction::Run(x) => x.run.span.start,
        Instruction::Shell(x) => x.shell.span.start,
        Instruction::Stopsignal(x) => x.stopsignal.span.start,
        Instruction::User(x) => x.user.span.start,
        Instruction::Volume(x) => x.volume.span.start,
        Instruction::Workdir(x) => x.workdir.span.start,
        _ => return None,
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].bytes().filter(|&b| b == b'\n').count() + 1
}

/// The text from `start` up to `end`, without trailing blank or comment lines.
fn instruction_text(text: &str, start: usize, end: usize) -> String {
    let mut lines: Vec<&str> = text[start..end].lines().collect();
    while lines
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        lines.pop();
    }
    lines.join("\n").trim_end().to_string()
}

pub fn parse(text: &str) -> Result<Dockerfile, String> {
    let df = parse_dockerfile::parse(text).map_err(|e| e.to_string())?;
    let stages: Vec<_> = df.stages().collect();
    // Instruction start offsets, to cut each instruction's text.
    let mut starts: Vec<usize> = df.instructions.iter().filter_map(keyword_start).collect();
    starts.sort_unstable();
    let end_of = |start: usize| -> usize {
        starts
            .iter()
            .find(|&&s| s > start)
            .copied()
            .unwrap_or(text.len())
    };
    // The chain of stages the final one is built from (`FROM build AS final`).
    let mut chain = Vec::new();
    let mut cur = stages.len().checked_sub(1);
    while let Some(i) = cur {
        if chain.contains(&i) {
            break;
        }
        chain.push(i);
        let from = stages[i].from.image.value.as_ref();
        cur = stages[..i]
            .iter()
            .rposition(|s| s.from.as_.as_ref().is_some_and(|(_, n)| n.value == from));
    }
    chain.reverse();
    let base_image = stages[chain[0]].from.image.value.to_string();
    let mut instrs = Vec::new();
    let mut meta = Vec::new();
    for &si in &chain {
        for ins in stages[si].instructions {
            let Some(start) = keyword_start(ins) else {
                continue;
            };
            let full = instruction_text(text, start, end_of(start));
            let (instr, flags, body) = match ins {
                Instruction::Run(r) => {
                    let flags = r
                        .options
                        .iter()
                        .map(|f| text[f.span()].to_string())
                        .collect::<Vec<_>>()
                        .join(" ");
                    let body = match &r.arguments {
                        Command::Shell(s) if r.here_docs.is_empty() => {
                            Some(instruction_text(text, s.span.start, end_of(start)))
                        }
                        _ => None,
                    };
                    (Instr::Run, flags, body)
                }
                Instruction::Copy(_) => (Instr::Copy, String::new(), None),
                Instruction::Add(_) => (Instr::Add, String::new(), None),
                Instruction::Workdir(_) => (Instr::Workdir, String::new(), None),
                Instruction::Env(_)
                | Instruction::Arg(_)
                | Instruction::Cmd(_)
                | Instruction::Entrypoint(_)
                | Instruction::User(_)
                | Instruction::Expose(_)
                | Instruction::Label(_)
                | Instruction::Stopsignal(_)
                | Instruction::Healthcheck(_)
                | Instruction::Shell(_)
                | Instruction::Volume(_) => {
                    meta.push((instrs.len(), full));
                    continue;
                }
                _ => continue,
            };
            instrs.push(DfInstr {
                instr,
                line: line_of(text, start),
                span: (start, start + full.len()),
                text: full,
                flags,
                body,
            });
        }
    }
    let final_from = (chain.len() == 1)
        .then(|| stages.last().map(|s| s.from.from.span.start))
        .flatten();
    Ok(Dockerfile {
        base_image,
        instrs,
        meta,
        final_from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_stage_instructions_with_lines() {
        let text = "\
# syntax=docker/dockerfile:1
FROM gcc:12 AS build
RUN make

FROM debian:bookworm-slim
# install
RUN apt-get update \\
    && apt-get install -y curl
COPY --from=build /out/app /usr/local/bin/app
ENV A=1
RUN --mount=type=cache,target=/root/.cache pip install x
RUN <<EOF
echo hi
EOF
";
        let df = parse(text).unwrap();
        assert_eq!(df.base_image, "debian:bookworm-slim");
        let got: Vec<(Instr, usize)> = df.instrs.iter().map(|i| (i.instr, i.line)).collect();
        assert_eq!(
            got,
            [
                (Instr::Run, 7),
                (Instr::Copy, 9),
                (Instr::Run, 11),
                (Instr::Run, 12)
            ]
        );
        assert_eq!(
            df.instrs[0].text,
            "RUN apt-get update \\\n    && apt-get install -y curl"
        );
        assert_eq!(
            df.instrs[0].body.as_deref(),
            Some("apt-get update \\\n    && apt-get install -y curl")
        );
        assert_eq!(df.instrs[2].flags, "--mount=type=cache,target=/root/.cache");
        assert_eq!(df.instrs[2].body.as_deref(), Some("pip install x"));
        assert_eq!(df.instrs[3].body, None, "heredoc is not joinable");
    }

    #[test]
    fn final_stage_built_from_an_earlier_stage() {
        let text = "FROM alpine AS a\nRUN one\nFROM a\nRUN two\n";
        let df = parse(text).unwrap();
        assert_eq!(df.base_image, "alpine");
        let lines: Vec<usize> = df.instrs.iter().map(|i| i.line).collect();
        assert_eq!(lines, [2, 4]);
    }

    #[test]
    fn bad_dockerfile_is_an_error() {
        assert!(parse("RUN x\n").is_err());
    }
}
