//! Suggestions on real images (dive's 14-step scenario rebuilt in
//! tests/images/, see tests/dive_steps.rs) and on small synthetic images for
//! the rules that scenario does not exercise. Every report here
//! also goes through `check_invariants`: each suggestion saves exactly the
//! bytes of the findings it covers, and no finding is covered twice.

use crate::common;
use common::*;

use std::collections::HashMap;
use std::path::Path;

use imgscope::suggest::{Suggestion, SuggestionKind};
use imgscope::Report;

pub fn report_with(path: &Path, dockerfile: Option<&Path>) -> Report {
    let r = report_with_dockerfile(path, dockerfile);
    check_invariants(&r);
    r
}

fn report_bytes(bytes: &[u8]) -> Report {
    let f = temp_file(bytes);
    report_with(f.path(), None)
}

/// The contract of suggestions, for any image.
pub fn check_invariants(r: &Report) {
    let mut owner: HashMap<usize, &str> = HashMap::new();
    for s in &r.suggestions {
        if s.kind == SuggestionKind::MultiStage {
            assert!(
                s.findings.is_empty(),
                "{}: multi-stage claims no finding",
                s.id
            );
        } else if s.kind == SuggestionKind::Optional {
            // A trade-off over the optional files of its one layer.
            assert!(
                s.findings.is_empty(),
                "{}: optional claims no finding",
                s.id
            );
            assert_eq!(s.layers.len(), 1, "{}", s.id);
            let of_layer: u64 = r
                .optional
                .iter()
                .filter(|o| o.layer == s.layers[0])
                .map(|o| o.bytes)
                .sum();
            // Files another suggestion counts already are not counted again.
            assert!(s.saves_bytes <= of_layer, "{}: saves_bytes", s.id);
        } else if s.kind == SuggestionKind::Recommends || s.kind == SuggestionKind::Strip {
            // Visible bytes of its one layer: packages it installed, or the
            // strippable bytes of the binaries it stored.
            assert!(s.findings.is_empty(), "{}: claims no finding", s.id);
            assert_eq!(s.layers.len(), 1, "{}", s.id);
            let l = s.layers[0];
            if s.kind == SuggestionKind::Strip {
                let of_layer: u64 = r
                    .insights
                    .iter()
                    .filter(|i| i.id == "unstripped" && i.layer == l)
                    .map(|i| i.bytes)
                    .sum();
                assert!(s.saves_bytes <= of_layer, "{}: saves_bytes", s.id);
            } else {
                let of_layer: u64 = r
                    .packages
                    .iter()
                    .filter(|p| p.layer == Some(l))
                    .map(|p| p.visible_bytes)
                    .sum();
                assert!(s.saves_bytes <= of_layer, "{}: saves_bytes", s.id);
            }
        } else {
            assert!(!s.findings.is_empty(), "{}: covers no finding", s.id);
            let sum: u64 = s.findings.iter().map(|&i| r.waste[i].bytes).sum();
            assert_eq!(s.saves_bytes, sum, "{}: saves_bytes != its findings", s.id);
        }
        assert!(s.saves_bytes > 0, "{}", s.id);
        for &i in &s.findings {
            if let Some(other) = owner.insert(i, &s.id) {
                panic!("finding {i} claimed by {other} and {}", s.id);
            }
            let f = &r.waste[i];
            assert!(s.layers.contains(&f.stored_in_layer), "{}: layers", s.id);
            if let Some(h) = f.hidden_by_layer {
                assert!(s.layers.contains(&h), "{}: hiding layer {h}", s.id);
            }
        }
        assert!(s.layers.windows(2).all(|w| w[0] < w[1]), "{}", s.id);
        assert!(!s.title.is_empty() && !s.why.is_empty());
        // An After, or the reason there is none (an optional trade-off on a
        // COPY may have neither: its why says how).
        assert!(
            !s.after.is_empty() || !s.no_after.is_empty() || s.kind == SuggestionKind::Optional,
            "{}",
            s.id
        );
        // Every After is valid Dockerfile: no history-only text, no
        // comment after an instruction, no placeholder.
        assert_eq!(
            imgscope::suggest::valid::invalid(&s.after),
            None,
            "{}",
            s.id
        );
        for line in s.after.lines().chain(s.before.lines()) {
            let t = line.trim_start();
            assert!(
                t.starts_with('#') || !t.contains(" #"),
                "{}: comment after an instruction: {line}",
                s.id
            );
        }
        assert!(
            !s.after.contains("COPY file:") && !s.after.contains("COPY dir:"),
            "{}",
            s.id
        );
    }
    // No byte counted twice: together the suggestions never exceed the image,
    // and those about visible bytes never exceed the visible bytes.
    let all: u64 = r.suggestions.iter().map(|s| s.saves_bytes).sum();
    assert!(
        all <= r.summary.total_bytes,
        "suggestions {all} > image {}",
        r.summary.total_bytes
    );
    let visible: u64 = r
        .suggestions
        .iter()
        .filter(|s| s.findings.is_empty())
        .map(|s| s.saves_bytes)
        .sum();
    assert!(
        visible <= r.summary.visible_bytes,
        "visible-byte suggestions {visible}"
    );
    // Two groups, each by saving: the user's layers, then the base image's.
    assert!(
        r.suggestions.windows(2).all(|w| {
            (!w[0].in_base && w[1].in_base)
                || (w[0].in_base == w[1].in_base && w[0].saves_bytes >= w[1].saves_bytes)
        }),
        "sorted by saving within each group, the base's last"
    );
    for s in &r.suggestions {
        // A suggestion is the base's exactly when its findings are.
        let base = s.findings.iter().any(|&i| r.waste[i].in_base);
        assert_eq!(
            s.in_base,
            base && s.findings.iter().all(|&i| r.waste[i].in_base),
            "{}",
            s.id
        );
    }
    let mut ids: Vec<&str> = r.suggestions.iter().map(|s| s.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), r.suggestions.len(), "ids are unique");
}

fn by_id<'a>(r: &'a Report, id: &str) -> &'a Suggestion {
    r.suggestions
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| {
            let ids: Vec<&str> = r.suggestions.iter().map(|s| s.id.as_str()).collect();
            panic!("no suggestion {id}; have {ids:?}")
        })
}

fn summary(r: &Report) -> Vec<(String, u64, Vec<usize>)> {
    let mut v: Vec<(String, u64, Vec<usize>)> = r
        .suggestions
        .iter()
        .map(|s| (s.id.clone(), s.saves_bytes, s.layers.clone()))
        .collect();
    v.sort();
    v
}

/// The dive images: each wasteful step explained in its own layer.
fn dive_expectations(r: &Report, s: u64) {
    assert_eq!(
        summary(r),
        vec![
            ("chain-cleanup:L4-L9".to_string(), s, vec![4, 9]),
            ("chain-cleanup:L5-L9".to_string(), s, vec![5, 9]),
            ("metadata:L3-L4".to_string(), s, vec![3, 4]),
            ("metadata:L7-L13".to_string(), s, vec![7, 13]),
            ("move:L6-L7".to_string(), s, vec![6, 7]),
            ("temp:L11".to_string(), s, vec![11]),
        ]
    );
    // chmod 444 in layer 4: set the mode in the RUN of layer 3.
    let m = by_id(r, "metadata:L3-L4");
    assert_eq!(
        m.after,
        "RUN cp /somefile.txt /root/example/somefile1.txt && \\\n    chmod 444 /root/example/somefile1.txt"
    );
    assert!(
        m.title
            .contains("Set the mode of /root/example/somefile1.txt"),
        "{}",
        m.title
    );
    // mv in layer 7: the move inside the RUN of layer 6.
    let mv = by_id(r, "move:L6-L7");
    assert_eq!(
        mv.after,
        "RUN cp /somefile.txt /root/example/somefile3.txt && \\\n    mv /root/example/somefile3.txt /root/saved.txt"
    );
    // rm -rf in layer 9 removes files of layers 4 and 5: each deletes its own.
    let c4 = by_id(r, "chain-cleanup:L4-L9");
    assert!(
        c4.before.ends_with("RUN rm -rf /root/example/"),
        "{}",
        c4.before
    );
    assert_eq!(
        c4.after,
        "RUN chmod 444 /root/example/somefile1.txt && \\\n    rm -rf /root/example/somefile1.txt"
    );
    let c5 = by_id(r, "chain-cleanup:L5-L9");
    assert_eq!(
        c5.after,
        "RUN cp /somefile.txt /root/example/somefile2.txt && \\\n    rm -rf /root/example/somefile2.txt"
    );
    // chmod +x in layer 13 on the file layer 7 stored.
    let x = by_id(r, "metadata:L7-L13");
    assert_eq!(
        x.after,
        "RUN mv /root/example/somefile3.txt /root/saved.txt && \\\n    chmod +x /root/saved.txt"
    );
    // The /tmp copy of layer 11.
    let t = by_id(r, "temp:L11");
    assert!(t
        .after
        .starts_with("RUN cp /root/saved.txt /tmp/saved.again1.txt && \\\n    rm -rf /tmp/*\n"));
    assert!(t
        .after
        .contains("RUN --mount=type=tmpfs,target=/tmp cp /root/saved.txt /tmp/saved.again1.txt"));
    // Each finding leads to its fix.
    let of = imgscope::suggest::suggestion_of_findings(r);
    assert!(of.iter().all(|s| s.is_some()));
    let i = r.waste.iter().position(|f| f.stored_in_layer == 6).unwrap();
    assert_eq!(r.suggestions[of[i].unwrap()].id, "move:L6-L7");
    // Everything hidden or cached is covered: the suggestions add up to the waste.
    let total: u64 = r.suggestions.iter().map(|s| s.saves_bytes).sum();
    assert_eq!(total, r.summary.wasted_bytes);
    // Squashing drops the five hidden copies (not the visible /tmp one).
    assert_eq!(r.summary.squash_saves_bytes, 5 * s);
}

/// The size of somefile.txt in the dive-steps image (tests/dive_steps.rs).
const S: u64 = 10_000;

#[test]
fn dive_docker_image_suggestions() {
    let r = report_with(&steps_docker(), None);
    dive_expectations(&r, S);
}

#[test]
fn dive_kaniko_image_suggestions() {
    let r = report_with(&steps_kaniko(), None);
    dive_expectations(&r, S);
}

#[test]
fn oci_images_have_the_same_suggestions() {
    for name in [
        "dive-steps.oci-gzip.tar",
        "dive-steps.oci-zstd.tar",
        "dive-steps.oci-uncompressed.tar.zst",
    ] {
        let r = report_with(&built(name), None);
        dive_expectations(&r, S);
    }
}

#[test]
fn dockerfile_lines_are_cited() {
    // The Containerfile the image was built from: three comment lines, then
    // FROM scratch (line 4), ADD rootfs.tar (5, layer 0), CMD (6, no layer),
    // so layer L (L >= 1) was made by line L + 6.
    let df = root().join("tests/images/src/dive-steps/Containerfile");
    let r = report_with(&steps_docker(), Some(&df));
    assert_eq!(by_id(&r, "metadata:L3-L4").dockerfile_lines, vec![9, 10]);
    assert_eq!(
        by_id(&r, "metadata:L3-L4").before,
        "RUN cp /somefile.txt /root/example/somefile1.txt\nRUN chmod 444 /root/example/somefile1.txt"
    );
    assert_eq!(
        by_id(&r, "chain-cleanup:L5-L9").dockerfile_lines,
        vec![11, 15]
    );
    assert_eq!(by_id(&r, "metadata:L7-L13").dockerfile_lines, vec![13, 19]);
    assert_eq!(by_id(&r, "temp:L11").dockerfile_lines, vec![17]);
    // Same suggestions and savings as without the Dockerfile.
    dive_expectations(&r, S);
    let text = imgscope::render::text::render(&r, &Default::default());
    assert!(text.contains("Dockerfile line 9, 10"), "{text}");
}

#[test]
fn dockerfile_errors_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let df = dir.path().join("Dockerfile");
    std::fs::write(&df, "RUN echo no FROM\n").unwrap();
    let path = steps_docker();
    let index = imgscope::load(
        path.to_str().unwrap(),
        &Default::default(),
        &Default::default(),
    )
    .unwrap();
    let opts = imgscope::AnalyseOptions {
        dockerfile: Some(df.clone()),
        ..Default::default()
    };
    let e = imgscope::analyse_index(index.clone(), &opts).unwrap_err();
    assert!(e.to_string().contains("cannot parse Dockerfile"), "{e}");
    let missing = imgscope::AnalyseOptions {
        dockerfile: Some(dir.path().join("nope")),
        ..Default::default()
    };
    let e = imgscope::analyse_index(index, &missing).unwrap_err();
    assert!(e.to_string().contains("cannot read Dockerfile"), "{e}");
}

#[test]
fn text_report_explains_and_fixes() {
    let r = report_with(&steps_docker(), None);
    let text = imgscope::render::text::render(&r, &Default::default());
    for kind in ["removed", "metadata_only", "moved", "cache"] {
        let why = imgscope::present::why(
            r.waste
                .iter()
                .find(|f| f.kind.as_str() == kind)
                .unwrap()
                .kind,
        );
        let first_words: String = why.split_whitespace().take(6).collect::<Vec<_>>().join(" ");
        assert!(text.contains(&first_words), "why of {kind} missing");
    }
    assert!(
        text.contains("What to fix in your layers (largest saving first; no byte counted twice)")
    );
    assert!(text.contains("Squashing"));
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("would remove the 50 kB (50000 bytes) of hidden bytes"),
        "{text}"
    );
    // Each suggestion with its layers and commands.
    assert!(
        text.contains("    4  RUN chmod 444 /root/example/somefile1.txt"),
        "{text}"
    );
    assert!(
        text.contains("   13  RUN chmod +x /root/saved.txt"),
        "{text}"
    );
    assert_eq!(
        text.matches("     Saves   10 kB (10000 bytes; ~").count(),
        6
    );
    let json = imgscope::render::json::render(&r, &Default::default());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let s0 = &v["suggestions"][0];
    for k in ["id", "title", "layers", "saves_bytes", "before", "after"] {
        assert!(!s0[k].is_null(), "{k}");
    }
    assert_eq!(v["summary"]["squash_saves_bytes"], 50000);
}

// ---------------------------------------------------------------- synthetic

fn big(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn copy_then_chmod_suggests_copy_chmod() {
    let data = big(5000, 1);
    let l0 = layer(&[E::File("bin/sh", big(100, 9))]);
    let l1 = layer(&[E::Dir("opt"), E::File("opt/big.bin", data.clone())]);
    let l2 = layer(&[E::Dir("opt"), E::FileMode("opt/big.bin", data, 0o755)]);
    let r = report_bytes(&docker_archive(
        &[l0, l1, l2],
        &[
            "/bin/sh -c #(nop) ADD file:0123abcd in / ",
            "COPY big.bin /opt/big.bin # buildkit",
            "RUN /bin/sh -c chmod 755 /opt/big.bin # buildkit",
        ],
    ));
    assert_eq!(
        summary(&r),
        vec![("metadata:L1-L2".into(), 5000, vec![1, 2])]
    );
    let s = &r.suggestions[0];
    assert_eq!(
        s.after,
        "COPY --chmod=755 big.bin /opt/big.bin\n# (the change in layer 2 is then no longer needed)"
    );
}

#[test]
fn chmod_then_chown_in_separate_runs_is_one_fix() {
    let data = big(7000, 3);
    let l0 = layer(&[E::File("bin/sh", big(100, 9))]);
    let l1 = layer(&[E::Owned("app.bin", data.clone(), 0o644, 0)]);
    let l2 = layer(&[E::Owned("app.bin", data.clone(), 0o755, 0)]);
    let l3 = layer(&[E::Owned("app.bin", data.clone(), 0o755, 1000)]);
    let r = report_bytes(&docker_archive(
        &[l0, l1, l2, l3],
        &[
            "/bin/sh -c #(nop) ADD file:0123abcd in / ",
            "COPY app.bin /app.bin # buildkit",
            "RUN /bin/sh -c chmod 755 /app.bin # buildkit",
            "RUN /bin/sh -c chown 1000:1000 /app.bin # buildkit",
        ],
    ));
    // Two duplicated copies (layers 1 and 2), one suggestion for both.
    assert_eq!(
        summary(&r),
        vec![("metadata:L1-L2-L3".into(), 14000, vec![1, 2, 3])]
    );
    let s = &r.suggestions[0];
    assert_eq!(
        s.after,
        "COPY --chmod=755 --chown=1000:1000 app.bin /app.bin\n# (the change in layers 2 and 3 is then no longer needed)"
    );
    assert!(
        s.title.contains("Set the mode and owner of /app.bin"),
        "{}",
        s.title
    );
}

/// A layer storing `d/f` and then a file `d` stores the path `/d` twice
/// (as a directory, then as a file): the suggestion names `/d`, not `/d/f`.
#[test]
fn a_directory_replaced_in_its_own_layer_is_named_as_stored_twice() {
    let l = layer(&[
        E::Dir("d"),
        E::File("d/f", big(3000, 1)),
        E::File("d", big(10, 2)),
    ]);
    let f = temp_file(&oci_tar(&oci_members(&[l])));
    let r = report_with(f.path(), None);
    let titles: Vec<&str> = r.suggestions.iter().map(|s| s.title.as_str()).collect();
    assert!(
        titles.contains(&"Layer 0 stores /d more than once"),
        "{titles:?}"
    );
}

#[test]
fn apt_lists_and_pip_cache_get_manager_fixes() {
    let l0 = layer(&[E::File("bin/sh", big(100, 9))]);
    let l1 = layer(&[
        E::File("var/lib/apt/lists/deb_InRelease", big(3000, 2)),
        E::File("var/cache/apt/archives/curl.deb", big(2000, 3)),
        E::File("usr/bin/curl", big(700, 4)),
    ]);
    let l2 = layer(&[
        E::File("root/.cache/pip/wheels/ab/flask.whl", big(1500, 5)),
        E::File(
            "usr/lib/python3/site-packages/flask/__init__.py",
            big(300, 6),
        ),
    ]);
    let r = report_bytes(&docker_archive(
        &[l0, l1, l2],
        &[
            "/bin/sh -c #(nop) ADD file:0123abcd in / ",
            "/bin/sh -c apt-get update && apt-get install -y curl",
            "/bin/sh -c pip install flask",
        ],
    ));
    assert_eq!(
        summary(&r),
        vec![
            ("apt:L1".into(), 5000, vec![1]),
            ("pip:L2".into(), 1500, vec![2]),
        ]
    );
    let apt = by_id(&r, "apt:L1");
    assert!(apt.after.starts_with(
        "RUN apt-get update && apt-get install -y curl && \\\n    apt-get clean && rm -rf /var/lib/apt/lists/*\n"
    ), "{}", apt.after);
    assert!(apt.title.starts_with("apt: "), "{}", apt.title);
    let pip = by_id(&r, "pip:L2");
    assert!(pip
        .after
        .starts_with("RUN pip install --no-cache-dir flask\n"));
    assert!(pip
        .after
        .contains("RUN --mount=type=cache,target=/root/.cache/pip pip install flask"));
}

#[test]
fn apt_lists_deleted_in_a_later_run_join_the_apt_run() {
    let l0 = layer(&[E::File("bin/sh", big(100, 9))]);
    let l1 = layer(&[
        E::File("var/lib/apt/lists/deb_InRelease", big(3000, 2)),
        E::File("usr/bin/curl", big(700, 4)),
    ]);
    let l2 = layer(&[
        E::Dir("var/lib/apt/lists"),
        E::Whiteout("var/lib/apt/lists/deb_InRelease"),
    ]);
    let r = report_bytes(&docker_archive(
        &[l0, l1, l2],
        &[
            "/bin/sh -c #(nop) ADD file:0123abcd in / ",
            "/bin/sh -c apt-get update && apt-get install -y curl",
            "/bin/sh -c rm -rf /var/lib/apt/lists/*",
        ],
    ));
    assert_eq!(summary(&r), vec![("apt:L1".into(), 3000, vec![1, 2])]);
    let s = &r.suggestions[0];
    assert!(
        s.after.starts_with(
            // The whole clean-up after the joined delete: `apt-get clean`
            // alone after it would make the lists directory again.
            "RUN apt-get update && apt-get install -y curl && \\\n    \
             rm -rf /var/lib/apt/lists/* && \\\n    \
             apt-get clean && rm -rf /var/lib/apt/lists/*\n"
        ),
        "{}",
        s.after
    );
}

#[test]
fn several_apt_runs_are_joined_into_one() {
    let l0 = layer(&[E::File("bin/sh", big(100, 9))]);
    let l1 = layer(&[
        E::File("var/lib/apt/lists/deb_InRelease", big(3000, 2)),
        E::File("var/lib/dpkg/status", big(400, 3)),
        E::File("usr/bin/curl", big(700, 4)),
    ]);
    let l2 = layer(&[
        E::File("var/lib/dpkg/status", big(450, 5)),
        E::File("var/cache/apt/archives/git.deb", big(2500, 6)),
        E::File("usr/bin/git", big(900, 7)),
    ]);
    let r = report_bytes(&docker_archive(
        &[l0, l1, l2],
        &[
            "/bin/sh -c #(nop) ADD file:0123abcd in / ",
            "/bin/sh -c apt-get update && apt-get install -y curl",
            "/bin/sh -c apt-get install -y git",
        ],
    ));
    // Lists (3000) and the .deb (2500) are visible caches; the layer-1 dpkg
    // status (400) is rewritten by the second apt run.
    assert_eq!(summary(&r), vec![("apt:L1".into(), 5900, vec![1, 2])]);
    let s = &r.suggestions[0];
    assert!(s.title.contains("layers 1, 2"), "{}", s.title);
    assert!(
        s.after.starts_with(
            "RUN apt-get update && apt-get install -y curl && \\\n    \
             apt-get install -y git && \\\n    \
             apt-get clean && rm -rf /var/lib/apt/lists/*\n"
        ),
        "{}",
        s.after
    );
}

#[test]
fn build_dir_deleted_in_a_later_run_is_chained() {
    let l0 = layer(&[E::File("bin/sh", big(100, 9))]);
    let l1 = layer(&[
        E::Dir("opt/build"),
        E::File("opt/build/a.o", big(3000, 2)),
        E::File("opt/build/b.o", big(1000, 3)),
        E::File("usr/local/bin/app", big(700, 4)),
    ]);
    let l2 = layer(&[E::Dir("opt"), E::Whiteout("opt/build")]);
    let r = report_bytes(&docker_archive(
        &[l0, l1, l2],
        &[
            "/bin/sh -c #(nop) ADD file:0123abcd in / ",
            "/bin/sh -c make -C /src O=/opt/build install",
            "/bin/sh -c rm -rf /opt/build",
        ],
    ));
    assert_eq!(
        summary(&r),
        vec![("chain-cleanup:L1-L2".into(), 4000, vec![1, 2])]
    );
    assert_eq!(
        r.suggestions[0].after,
        "RUN make -C /src O=/opt/build install && \\\n    rm -rf /opt/build"
    );
}

#[test]
fn download_extract_delete_and_move_in_one_run() {
    let l0 = layer(&[E::File("bin/sh", big(100, 9))]);
    let l1 = layer(&[E::Dir("opt"), E::File("opt/tool.tar.gz", big(4000, 1))]);
    let l2 = layer(&[
        E::Dir("opt/tool-1.0/bin"),
        E::File("opt/tool-1.0/bin/tool", big(9000, 2)),
    ]);
    let l3 = layer(&[E::Dir("opt"), E::Whiteout("opt/tool.tar.gz")]);
    let l4 = layer(&[
        E::Dir("opt"),
        E::Whiteout("opt/tool-1.0"),
        E::Dir("opt/tool/bin"),
        E::File("opt/tool/bin/tool", big(9000, 2)),
    ]);
    let r = report_bytes(&docker_archive(
        &[l0, l1, l2, l3, l4],
        &[
            "/bin/sh -c #(nop) ADD file:0123abcd in / ",
            "/bin/sh -c curl -fsSLo /opt/tool.tar.gz https://example.invalid/tool.tar.gz",
            "/bin/sh -c tar -xzf /opt/tool.tar.gz -C /opt",
            "/bin/sh -c rm /opt/tool.tar.gz",
            "/bin/sh -c mv /opt/tool-1.0 /opt/tool",
        ],
    ));
    let kinds: Vec<&str> = r.waste.iter().map(|f| f.kind.as_str()).collect();
    assert_eq!(kinds, ["moved", "removed"]);
    assert_eq!(
        summary(&r),
        vec![("download-extract:L1-L3".into(), 13000, vec![1, 2, 3, 4])]
    );
    assert_eq!(
        r.suggestions[0].after,
        "RUN curl -fsSLo /opt/tool.tar.gz https://example.invalid/tool.tar.gz && \\\n    \
         tar -xzf /opt/tool.tar.gz -C /opt && \\\n    \
         rm /opt/tool.tar.gz && \\\n    \
         mv /opt/tool-1.0 /opt/tool"
    );
}

#[test]
fn moved_directory_is_moved_once_in_the_creating_run() {
    let l0 = layer(&[E::File("bin/sh", big(100, 9))]);
    let l1 = layer(&[
        E::Dir("srv/app-1.0"),
        E::File("srv/app-1.0/a", big(1000, 1)),
        E::File("srv/app-1.0/b", big(2000, 2)),
    ]);
    let l2 = layer(&[E::File("etc/motd", big(10, 7))]);
    let l3 = layer(&[
        E::Dir("srv"),
        E::Whiteout("srv/app-1.0"),
        E::Dir("srv/app"),
        E::File("srv/app/a", big(1000, 1)),
        E::File("srv/app/b", big(2000, 2)),
        E::File("etc/motd", big(20, 8)),
    ]);
    let r = report_bytes(&docker_archive(
        &[l0, l1, l2, l3],
        &[
            "/bin/sh -c #(nop) ADD file:0123abcd in / ",
            "/bin/sh -c make-app /srv/app-1.0",
            "/bin/sh -c echo hi > /etc/motd",
            "/bin/sh -c mv /srv/app-1.0 /srv/app && echo bye > /etc/motd",
        ],
    ));
    let m = by_id(&r, "move:L1-L3");
    assert_eq!(m.saves_bytes, 3000);
    // Layer 3 also rewrites a file of layer 2, so it is not joined whole.
    assert_eq!(
        m.after,
        "RUN make-app /srv/app-1.0 && \\\n    mv /srv/app-1.0 /srv/app\n\
         # (and leave these paths out of layer 3's move)"
    );
    let o = by_id(&r, "overwrite:L2-L3");
    assert_eq!(o.saves_bytes, 10);
}

#[test]
fn base_image_files_hidden_later() {
    let l0 = layer(&[
        E::File("bin/sh", big(100, 9)),
        E::File("usr/share/doc/big.txt", big(4000, 1)),
    ]);
    let l1 = layer(&[
        E::Dir("usr/share/doc"),
        E::Whiteout("usr/share/doc/big.txt"),
    ]);
    let r = report_bytes(&docker_archive(
        &[l0, l1],
        &[
            "/bin/sh -c #(nop) ADD file:0123abcd in / ",
            "/bin/sh -c rm -rf /usr/share/doc/*",
        ],
    ));
    assert_eq!(
        summary(&r),
        vec![("base-image:L1".into(), 4000, vec![0, 1])]
    );
    // Choices, never an After that drops the user's layers.
    let after = &r.suggestions[0].after;
    assert!(after.contains("# Choices:"), "{after}");
    assert!(
        !after.contains("FROM scratch") && !after.contains("COPY --from=full"),
        "{after}"
    );
    assert!(after.lines().all(|l| l.starts_with('#')), "{after}");
}

fn toolchain_image(with_compiler: bool) -> Vec<u8> {
    let l0 = layer(&[E::File("bin/sh", big(100, 9))]);
    let mut tc = vec![
        E::File("usr/include/stdio.h", big(800, 1)),
        E::File("usr/bin/gcc-ar-12", big(900, 2)),
        E::File("usr/share/doc/gcc/README", big(50, 3)),
    ];
    if with_compiler {
        tc.push(E::File(
            "usr/lib/gcc/x86_64-linux-gnu/12/cc1",
            big(30000, 4),
        ));
    }
    let l1 = layer(&tc);
    let l2 = layer(&[
        E::File("src/hello.c", big(120, 5)),
        E::File("usr/local/bin/hello", big(1600, 6)),
    ]);
    docker_archive(
        &[l0, l1, l2],
        &[
            "/bin/sh -c #(nop) ADD file:0123abcd in / ",
            "/bin/sh -c apt-get install -y gcc libc6-dev",
            "/bin/sh -c gcc -O2 -o /usr/local/bin/hello /src/hello.c",
        ],
    )
}

#[test]
fn toolchain_in_final_image_suggests_multi_stage() {
    let r = report_bytes(&toolchain_image(true));
    let m = by_id(&r, "multi-stage:gcc");
    // What leaves the final image: the toolchain's files (cc1, gcc-ar, the
    // headers) and the build's source; not gcc's docs (no toolchain glob
    // takes them), not the program the build stage copies back.
    assert_eq!(m.saves_bytes, 30000 + 900 + 800 + 120);
    assert_eq!(m.layers, vec![1, 2]);
    assert!(
        m.title
            .contains("gcc, -dev headers and source files and objects"),
        "{}",
        m.title
    );
    // The history names no base image: a FROM cannot be written, so no
    // After, and the reason instead.
    assert!(m.after.is_empty(), "{}", m.after);
    assert!(m.no_after.contains("placeholder"), "{}", m.no_after);
    assert!(m.why.contains("no byte another suggestion counts"));
}

#[test]
fn no_multi_stage_without_a_compiler() {
    let r = report_bytes(&toolchain_image(false));
    assert!(
        r.suggestions
            .iter()
            .all(|s| s.kind != SuggestionKind::MultiStage),
        "{:?}",
        summary(&r)
    );
}

// ------------------------------------------- real images of tests/images/

fn built_report(name: &str) -> Report {
    report_with(&built(name), None)
}

/// Every real test image: the invariants, and the suggestions cover exactly
/// the waste (no image here has waste without a fix).
#[test]
fn every_built_image_keeps_the_invariants() {
    let dir = root().join("tests/images");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.contains(".tar") || name.ends_with(".ocidir")) {
            continue;
        }
        let r = report_with(&p, None);
        let covered: u64 = r
            .suggestions
            .iter()
            .filter(|s| s.kind != SuggestionKind::MultiStage && s.kind != SuggestionKind::Optional)
            .map(|s| s.saves_bytes)
            .sum();
        assert_eq!(covered, r.summary.wasted_bytes, "{name}");
        n += 1;
    }
    assert!(n >= 13, "only {n} images in {}", dir.display());
}

#[test]
fn cleanup_later_names_both_layers_and_merges_the_runs() {
    let r = built_report("cleanup-later.tar.zst");
    assert_eq!(
        summary(&r),
        vec![("chain-cleanup:L1-L2".into(), 460000, vec![1, 2])]
    );
    assert_eq!(r.summary.hidden_bytes, 460000);
    let s = &r.suggestions[0];
    assert!(s.before.starts_with("RUN mkdir -p /data "), "{}", s.before);
    assert!(s.before.ends_with(
        "\nRUN rm -rf /data/big.bin /var/lib/apt/lists/* /var/cache/apt/archives/x.deb"
    ));
    assert!(s.after.starts_with("RUN mkdir -p /data "), "{}", s.after);
    assert!(s.after.ends_with(
        "/var/cache/apt/archives/x.deb && \\\n    \
         rm -rf /data/big.bin /var/lib/apt/lists/* /var/cache/apt/archives/x.deb"
    ));
    assert_eq!(s.after.matches("RUN ").count(), 1, "one RUN");
    // Its passing twin has nothing to fix.
    let twin = built_report("cleanup-chained.tar.zst");
    assert!(twin.suggestions.is_empty());
    assert_eq!(twin.summary.wasted_bytes, 0);
}

#[test]
fn cleanup_later_with_its_containerfile_cites_lines() {
    let df = root().join("tests/images/src/cleanup-later/Containerfile");
    let r = report_with(&built("cleanup-later.tar.zst"), Some(&df));
    let s = by_id(&r, "chain-cleanup:L1-L2");
    assert_eq!(s.dockerfile_lines, vec![4, 9]);
    // The Dockerfile's own text, continuation lines and all.
    assert!(
        s.after.starts_with(
            "RUN mkdir -p /data /var/lib/apt/lists/partial /var/cache/apt/archives/partial \\\n \
         && head -c 300000 /bin/busybox > /data/big.bin \\\n"
        ),
        "{}",
        s.after
    );
}

#[test]
fn chmod_and_chown_savings_sum_to_the_duplicated_bytes() {
    for name in ["chmod-chown.tar.zst", "chmod-chown.oci-zstd.tar"] {
        let r = built_report(name);
        assert_eq!(
            summary(&r),
            vec![
                ("metadata:L1-L2-L3".into(), 400000, vec![1, 2, 3]),
                ("metadata:L1-L4".into(), 10000, vec![1, 4]),
            ],
            "{name}"
        );
        let total: u64 = r.suggestions.iter().map(|s| s.saves_bytes).sum();
        assert_eq!(total, r.summary.hidden_bytes);
        let big = by_id(&r, "metadata:L1-L2-L3");
        assert!(big
            .title
            .starts_with("Set the mode and owner of /app/big.bin"));
        assert!(big.after.ends_with(
            "/app/notes.txt && \\\n    chmod 755 /app/big.bin && \\\n    chown 1000:1000 /app/big.bin"
        ), "{}", big.after);
        let touch = by_id(&r, "metadata:L1-L4");
        assert!(touch
            .title
            .starts_with("Set the timestamps of /app/notes.txt"));
    }
}

#[test]
fn mv_and_overwrite_across_layers() {
    let r = built_report("mv-across.tar.zst");
    assert_eq!(
        summary(&r),
        vec![
            ("move:L1-L2".into(), 150000, vec![1, 2]),
            ("overwrite:L1-L3".into(), 20000, vec![1, 3]),
        ]
    );
    assert!(by_id(&r, "move:L1-L2")
        .after
        .ends_with(" && \\\n    mkdir -p /opt/b && mv /opt/a/file.bin /opt/b/file.bin"));
    assert!(by_id(&r, "overwrite:L1-L3")
        .after
        .ends_with(" && \\\n    yes 'version=2' | head -c 20000 > /opt/config.txt"));
}

#[test]
fn replaced_directory_same_fix_for_both_storage_drivers() {
    let overlay = built_report("dir-replaced-overlay.tar.zst");
    let vfs = built_report("dir-replaced-vfs.tar.zst");
    assert_eq!(
        summary(&overlay),
        vec![("chain-cleanup:L1-L2".into(), 60000, vec![1, 2])]
    );
    assert_eq!(summary(&overlay), summary(&vfs));
    assert_eq!(overlay.suggestions[0].after, vfs.suggestions[0].after);
}

#[test]
fn hard_linked_file_counts_once() {
    let r = built_report("hardlinks.tar.zst");
    assert_eq!(
        summary(&r),
        vec![("chain-cleanup:L1-L2".into(), 20000, vec![1, 2])]
    );
}

#[test]
fn download_extract_delete_move_is_one_suggestion() {
    let r = built_report("download-extract.tar.zst");
    assert_eq!(
        summary(&r),
        vec![("download-extract:L1-L3".into(), 163564, vec![1, 2, 3, 4])]
    );
    let s = &r.suggestions[0];
    let kinds: Vec<&str> = s
        .findings
        .iter()
        .map(|&i| r.waste[i].kind.as_str())
        .collect();
    assert_eq!(kinds, ["moved", "moved", "removed"]);
    assert!(
        s.after.ends_with(
            " && \\\n    mkdir -p /opt && tar xzf /tmp/src.tar.gz -C /opt && \\\n    \
         rm /tmp/src.tar.gz && \\\n    mv /opt/pkg-1.0 /opt/pkg"
        ),
        "{}",
        s.after
    );
}

#[test]
fn pip_cache_suggests_no_cache_dir() {
    let r = built_report("pip-cache.tar.zst");
    assert_eq!(summary(&r), vec![("pip:L1".into(), 30540, vec![1])]);
    assert_eq!(r.summary.cache_bytes, 30540);
    let s = &r.suggestions[0];
    // The cache came in with a COPY the history records as `COPY dir:<hash>`:
    // no valid After can name its source; the advice is in the why.
    assert!(s.after.is_empty(), "{}", s.after);
    assert!(s.no_after.contains("image history"), "{}", s.no_after);
    assert!(s.why.contains("--no-cache-dir"));
}

#[test]
fn single_stage_gcc_gets_multi_stage_and_its_twin_does_not() {
    let r = built_report("toolchain-single.tar.zst");
    assert_eq!(
        summary(&r),
        vec![("multi-stage:gcc".into(), 1465598, vec![1])]
    );
    let s = &r.suggestions[0];
    assert!(s.title.contains("gcc"), "{}", s.title);
    // The toolchain came in with a COPY and no step builds with it: no
    // two-stage After can be written from the history.
    assert!(s.after.is_empty(), "{}", s.after);
    assert!(s.no_after.contains("no step"), "{}", s.no_after);
    let twin = built_report("toolchain-multistage.tar.zst");
    assert!(twin.suggestions.is_empty(), "{:?}", summary(&twin));
    assert!(built_report("single-layer.tar.gz").suggestions.is_empty());
}

/// The `--demo` image with its Containerfile: one fix per classic mistake.
#[test]
fn demo_image_suggestions() {
    let root = root();
    let r = report_with(
        &root.join("assets/demo/demo.tar.zst"),
        Some(&root.join("assets/demo/Containerfile")),
    );
    assert_eq!(
        summary(&r),
        vec![
            ("apt:L1".into(), 1170000, vec![1, 8]),
            ("chain-cleanup:L2-L8".into(), 449613, vec![2, 8]),
            ("move:L2-L7".into(), 1450000, vec![2, 3, 7]),
            ("pip:L5".into(), 30540, vec![5]),
            ("temp:L6".into(), 120450, vec![6]),
        ]
    );
    let total: u64 = r.suggestions.iter().map(|s| s.saves_bytes).sum();
    assert_eq!(total, r.summary.wasted_bytes);
    // The extract, chmod and move of the app: one RUN, from the Dockerfile.
    let mv = by_id(&r, "move:L2-L7");
    assert_eq!(mv.dockerfile_lines, vec![7, 8, 12]);
    assert_eq!(
        mv.after,
        "RUN curl -fsSL -o /tmp/app-2.1.tar.gz https://downloads.example.com/app/app-2.1.tar.gz \
         && mkdir -p /opt && tar xzf /tmp/app-2.1.tar.gz -C /opt && \\\n    \
         chmod +x /opt/app-2.1/bin/app && \\\n    mv /opt/app-2.1 /opt/app"
    );
    assert!(by_id(&r, "pip:L5")
        .after
        .starts_with("RUN pip install --no-cache-dir -r /srv/requirements.txt\n"));
}

#[test]
fn base_made_by_a_non_dockerfile_tool_is_the_base() {
    let l0 = layer(&[E::File("usr/share/doc/big.txt", big(4000, 1))]);
    let l1 = layer(&[
        E::Dir("usr/share/doc"),
        E::Whiteout("usr/share/doc/big.txt"),
    ]);
    let r = report_bytes(&docker_archive(
        &[l0, l1],
        &[
            "# debian.sh --arch 'amd64' out/ 'bookworm' '@1704672000'",
            "RUN /bin/sh -c rm -rf /usr/share/doc/* # buildkit",
        ],
    ));
    assert_eq!(
        summary(&r),
        vec![("base-image:L1".into(), 4000, vec![0, 1])]
    );
    assert!(r.suggestions[0]
        .before
        .starts_with("# layer 0 (base image): # debian.sh"));
}

/// Many files of one content, moved and deleted: the rules stay linear (a
/// quadratic step would make this test take minutes).
#[test]
fn many_identical_files_moved_and_deleted() {
    const N: usize = 20000;
    let names: Vec<&'static str> = (0..N)
        .map(|i| &*Box::leak(format!("d{:02}/f{i:05}.txt", i % 50).into_boxed_str()))
        .collect();
    let moved: Vec<&'static str> = names
        .iter()
        .map(|n| &*Box::leak(format!("new/{n}").into_boxed_str()))
        .collect();
    let l0 = layer(&[E::File("bin/sh", big(100, 9))]);
    let mut e1 = vec![E::Dir("old")];
    e1.extend(names.iter().map(|n| {
        E::File(
            Box::leak(format!("old/{n}").into_boxed_str()),
            b"same content".to_vec(),
        )
    }));
    e1.push(E::File("tmp/junk.bin", big(5000, 1)));
    let mut e2 = vec![E::Whiteout("old"), E::Whiteout("tmp/junk.bin")];
    e2.extend(moved.iter().map(|n| E::File(n, b"same content".to_vec())));
    let r = report_bytes(&docker_archive(
        &[l0, layer(&e1), layer(&e2)],
        &[
            "/bin/sh -c #(nop) ADD file:0123abcd in / ",
            "/bin/sh -c make-tree /old && make-junk /tmp/junk.bin",
            "/bin/sh -c mv /old /new && rm /tmp/junk.bin",
        ],
    ));
    assert_eq!(r.waste.len(), N + 1);
    let s = by_id(&r, "move:L1-L2");
    assert_eq!(s.saves_bytes, 12 * N as u64);
    // Layer 2 only hides what layer 1 stored: the two RUNs become one.
    assert_eq!(
        s.after,
        "RUN make-tree /old && make-junk /tmp/junk.bin && \\\n    mv /old /new && rm /tmp/junk.bin"
    );
    assert_eq!(by_id(&r, "chain-cleanup:L1-L2").saves_bytes, 5000);
}

#[test]
fn cli_bad_dockerfile_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let df = dir.path().join("Dockerfile");
    std::fs::write(&df, "RUN echo no FROM\n").unwrap();
    let image = steps_docker();
    Exec::new([
        "--format",
        "json",
        "--dockerfile",
        df.to_str().unwrap(),
        image.to_str().unwrap(),
    ])
    .run()
    .rejected("cannot parse Dockerfile");
}

#[test]
fn cli_text_report_with_dockerfile() {
    let df = root().join("tests/images/src/cleanup-later/Containerfile");
    let image = built("cleanup-later.tar.zst");
    let out = Exec::new([
        "--format",
        "text",
        "--dockerfile",
        df.to_str().unwrap(),
        image.to_str().unwrap(),
    ])
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = out.stdout;
    assert!(
        text.contains("What to fix in your layers (largest saving first; no byte counted twice)"),
        "{text}"
    );
    assert!(text.contains("Dockerfile line 4, 9"), "{text}");
    assert!(text.contains("Saves   460 kB (460000 bytes; ~"), "{text}");
}
