//! Files that come from the base image: hiding them in a later layer saves
//! nothing, and neither does anything else in this Dockerfile but a different
//! base or copying the cleaned file system into a fresh stage.

use super::{layer_id, Claims, Ctx, Draft};
use crate::analyze::waste::WasteKind;
use crate::suggest::Suggestion;
use crate::suggest::SuggestionKind;

pub(crate) fn run(cx: &Ctx, claims: &mut Claims, out: &mut Vec<Suggestion>) {
    let steps = &cx.steps;
    let base_image = steps.base_image.as_deref().unwrap_or("<base image>");
    let name = steps.base_image.as_deref();
    // Hidden base files, by the layer that hid them.
    let groups = cx.group(claims, |f| {
        let b = f.hidden_by_layer?;
        steps.get(f.stored_in_layer).base.then_some(b)
    });
    for (b, fs) in groups {
        let what = cx.what(&fs);
        let mut layers: Vec<usize> = fs.iter().map(|&i| cx.finding(i).stored_in_layer).collect();
        layers.push(b);
        let sb = steps.get(b);
        // Choices only: an After that copies a cleaned base into an empty
        // stage would drop every layer of the user's own.
        let after = if sb.base {
            format!(
                "# The base image itself hides these files: only another base drops them.\n{}",
                choices_comment(name)
            )
        } else {
            format!(
                "# {base_image}'s layers still ship these files: deleting them in layer {b} only hides them.\n{}",
                choices_comment(name)
            )
        };
        let d = Draft {
            rule: SuggestionKind::BaseImage,
            id: format!("base-image:{}", layer_id(&[b])),
            vars: vec![("b", b.to_string()), ("what", what)],
            layers,
            findings: fs,
            after,
            edit: None,
        };
        cx.emit(claims, out, d);
    }
    // Caches and temp files shipped by the base image itself.
    let cache = cx.group(claims, |f| {
        (f.kind == WasteKind::Cache && steps.get(f.stored_in_layer).base).then_some(())
    });
    for ((), fs) in cache {
        let what = format!("caches and temporary files ({})", cx.what(&fs));
        let layers: Vec<usize> = fs.iter().map(|&i| cx.finding(i).stored_in_layer).collect();
        let mut ls = layers.clone();
        ls.sort_unstable();
        ls.dedup();
        let after = format!(
            "# {base_image} ships them itself: removing them in your layers only hides them.\n{}",
            choices_comment(name)
        );
        let d = Draft {
            rule: SuggestionKind::BaseCache,
            id: format!("base-cache:{}", layer_id(&ls)),
            vars: vec![("what", what)],
            layers,
            findings: fs,
            after,
            edit: None,
        };
        cx.emit(claims, out, d);
    }
}

/// [`base_choices`] as Dockerfile comment lines.
fn choices_comment(name: Option<&str>) -> String {
    let mut v = vec!["# Choices:".to_string()];
    v.extend(base_choices(name).into_iter().map(|c| format!("#   - {c}")));
    v.join("\n")
}

/// What a user can do about waste in the base image, for a base named
/// `name`: a slimmer variant of the same image, a `-slim` / distroless /
/// alpine one where the family has it, and always a multi-stage build that
/// leaves the base behind. Lines of a Dockerfile comment.
pub(crate) fn base_choices(name: Option<&str>) -> Vec<String> {
    let Some(name) = name else {
        return vec![
            "a slimmer variant of your base image (a -slim or -alpine tag, or a distroless image)"
                .into(),
            "a multi-stage build: build on this base, then COPY --from=build only what runs into a smaller one".into(),
            "a rebuild of the base image with the clean-up in the RUN that creates these files".into(),
        ];
    };
    let (repo, tag) = match name.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, t),
        _ => (name, "latest"),
    };
    let family = repo.rsplit('/').next().unwrap_or(repo);
    let slim = tag.contains("slim") || tag.contains("alpine") || repo.contains("distroless");
    let mut v = Vec::new();
    if slim {
        v.push(format!(
            "{name} is already a slim variant: only another image family is smaller"
        ));
    }
    let base_tag = tag.trim_end_matches("-slim");
    match family {
        "debian" | "ubuntu" if !slim => {
            v.push(format!("FROM {repo}:{base_tag}-slim  (same packages, without docs, man pages and most locales)"))
        }
        "python" | "node" | "ruby" | "php" | "perl" if !slim => {
            v.push(format!("FROM {repo}:{base_tag}-slim  (the same runtime on a minimal Debian)"));
            v.push(format!("FROM {repo}:{base_tag}-alpine  (smaller still; musl libc: native extensions must support it)"));
        }
        "openjdk" | "eclipse-temurin" | "amazoncorretto" => {
            v.push("a JRE-only tag (eclipse-temurin:<version>-jre) or gcr.io/distroless/java17-debian12 to run, the JDK only to build".into())
        }
        "golang" | "rust" | "gcc" | "buildpack-deps" => v.push(
            "a compiler image is for building: run from gcr.io/distroless/static-debian12 (static binaries) or gcr.io/distroless/cc-debian12".into(),
        ),
        _ if !slim => v.push(format!(
            "a -slim or -alpine tag of {repo} if it publishes one, or a distroless image (gcr.io/distroless/…) for a runtime without shell or package manager"
        )),
        _ => {}
    }
    v.push(format!(
        "a multi-stage build: FROM {name} AS build for the build, then a smaller runtime base and COPY --from=build only what runs"
    ));
    v.push(format!(
        "a rebuild of {name} itself with the clean-up in the RUN that creates these files"
    ));
    v
}

#[cfg(test)]
mod tests {
    use super::base_choices;

    #[test]
    fn choices_by_family() {
        let c = base_choices(Some("debian:bookworm"));
        assert!(c[0].starts_with("FROM debian:bookworm-slim"), "{c:?}");
        assert!(c
            .iter()
            .any(|x| x.starts_with("a multi-stage build: FROM debian:bookworm AS build")));
        let c = base_choices(Some("docker.io/library/python:3.12"));
        assert!(
            c.iter()
                .any(|x| x.starts_with("FROM docker.io/library/python:3.12-slim")),
            "{c:?}"
        );
        assert!(
            c.iter()
                .any(|x| x.starts_with("FROM docker.io/library/python:3.12-alpine")),
            "{c:?}"
        );
        let c = base_choices(Some("debian:bookworm-slim"));
        assert!(c[0].contains("already a slim variant"), "{c:?}");
        assert!(!c.iter().any(|x| x.contains("-slim-slim")), "{c:?}");
        let c = base_chooses_registry_port();
        assert!(
            c.iter().any(|x| x.contains("localhost:5000/team/base")),
            "{c:?}"
        );
        assert_eq!(base_choices(None).len(), 3);
    }

    fn base_chooses_registry_port() -> Vec<String> {
        // A registry with a port and no tag: the tag is `latest`.
        base_choices(Some("localhost:5000/team/base"))
    }
}
