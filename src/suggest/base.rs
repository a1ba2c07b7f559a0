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
        let after = if sb.base {
            format!(
                "# The base image itself hides these files: choose a base image without them.\nFROM <a smaller base than {base_image}>"
            )
        } else {
            format!(
                "# Either start from a base image that does not have them, or do the\n\
                 # clean-up in a build stage and copy the result into an empty one\n\
                 # (one layer: it no longer shares the base layers with other images).\n\
                 FROM {base_image} AS full\n{}\nFROM scratch\nCOPY --from=full / /",
                sb.text
            )
        };
        let d = Draft {
            rule: SuggestionKind::BaseImage,
            id: format!("base-image:{}", layer_id(&[b])),
            vars: vec![("b", b.to_string()), ("what", what)],
            layers,
            findings: fs,
            after,
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
            "# Prefer a slimmer base image, or copy only what you need from this one:\n\
             FROM {base_image} AS full\n\
             FROM <a small runtime base>\n\
             COPY --from=full /path/you/need /path/you/need"
        );
        let d = Draft {
            rule: SuggestionKind::BaseCache,
            id: format!("base-cache:{}", layer_id(&ls)),
            vars: vec![("what", what)],
            layers,
            findings: fs,
            after,
        };
        cx.emit(claims, out, d);
    }
}
