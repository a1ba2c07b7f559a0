//! Inputs the fuzzers found (fuzz/README.md), minimised and kept in
//! tests/fuzz/TARGET/: each runs through the binary, built into an image
//! the way its fuzz target builds one, read from a file and from standard
//! input; it must end with exit 0, 1 or 2 (one line on stderr), never a
//! panic, under 10 s and 500 MB (a bounded run, common/run.rs), and the file and the
//! stream must accept or refuse it alike, with the same report.

use crate::common;
use common::{root, run_file_with, run_stdin, Run};

/// How each fuzz target builds its image from an input: the very code the
/// targets run.
#[allow(dead_code)]
#[path = "../../fuzz/src/wrap.rs"]
mod wrap;

/// The image a kept input of `target` stands for.
fn image_of(target: &str, data: &[u8]) -> Vec<u8> {
    match target {
        "archive" => data.to_vec(),
        "layer" => wrap::docker_archive(b"{}", &[data]),
        "analysis" => {
            wrap::analysis_archive(data).unwrap_or_else(|| wrap::docker_archive(data, &[]))
        }
        "metadata" => wrap::metadata_archive(data),
        "packages" => wrap::packages_archive(data),
        t => panic!("unknown fuzz target folder tests/fuzz/{t}"),
    }
}

fn ended_cleanly(o: &Run, what: &str) {
    assert!(
        matches!(o.code, 0..=2),
        "{what}: exit {}: {}",
        o.code,
        o.stderr
    );
    assert!(!o.stderr.contains("panicked"), "{what}: {}", o.stderr);
    if o.code == 2 {
        assert!(o.stdout.is_empty(), "{what}: stdout on an error");
        assert_eq!(
            o.stderr.trim_end().lines().count(),
            1,
            "{what}: {}",
            o.stderr
        );
    }
}

#[test]
fn every_kept_fuzz_input_ends_cleanly() {
    let dir = root().join("tests/fuzz");
    let mut n = 0;
    let mut targets: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    targets.sort();
    for t in targets {
        let target = t.file_name().unwrap().to_str().unwrap().to_string();
        let mut inputs: Vec<_> = std::fs::read_dir(&t)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        inputs.sort();
        for input in inputs {
            let what = format!("{target}/{}", input.file_name().unwrap().to_string_lossy());
            let img = image_of(&target, &std::fs::read(&input).unwrap());
            ended_cleanly(&run_file_with(&img, &["--no-verify"]), &what);
            // Standard input is verified by default: so is the file here,
            // and the two accept or refuse alike, with the same report.
            let file = run_file_with(&img, &["--verify"]);
            let piped = run_stdin(&img);
            ended_cleanly(&file, &what);
            ended_cleanly(&piped, &what);
            assert_eq!(
                file.code, piped.code,
                "{what}: file and stdin disagree: {} / {}",
                file.stderr, piped.stderr
            );
            if file.code != 2 {
                let (mut a, mut b) = (file.json(), piped.json());
                a["image"]["source"] = "".into();
                b["image"]["source"] = "".into();
                assert_eq!(a, b, "{what}: file and stdin reports differ");
            }
            n += 1;
        }
    }
    eprintln!("{n} kept fuzz inputs ran");
}
