//! Paths stored more than once in one layer (as `tar --append` leaves them,
//! or a hard link written over a file of the same tar): the last entry wins,
//! the earlier copies are hidden by the very layer that stored them. No
//! Dockerfile step makes this; the fix is to write the layer's tar once.
//!
//! This rule runs first and claims every such finding: the other rules
//! relate a storing layer to a *later* hiding one, and their chains walk
//! from layer to strictly earlier or later layers.

use super::{layer_id, Claims, Ctx, Draft};
use crate::suggest::Suggestion;
use crate::suggest::SuggestionKind;

pub(crate) fn run(cx: &Ctx, claims: &mut Claims, out: &mut Vec<Suggestion>) {
    let groups = cx.group(claims, |f| {
        let b = f.hidden_by_layer?;
        (b == f.stored_in_layer).then_some(b)
    });
    for (l, fs) in groups {
        let after = format!(
            "# Layer {l}'s tar holds these paths more than once; only the last copy is\n\
             # seen. Build the layer so that each path is written once (re-create the\n\
             # tar rather than appending to it)."
        );
        let d = Draft {
            rule: SuggestionKind::Duplicate,
            id: format!("duplicate:{}", layer_id(&[l])),
            vars: vec![
                ("a", l.to_string()),
                ("what", cx.what_paths(&twice(cx, l, &fs))),
            ],
            layers: vec![l],
            findings: fs.clone(),
            after,
            edit: None,
        };
        cx.emit(claims, out, d);
        // Empty copies too: no other rule may see a finding its own layer hid.
        for i in fs {
            claims.taken[i] = true;
        }
    }
}

/// The paths the layer stored more than once, for its hidden copies: a
/// copy's own path, or the nearest ancestor that layer also stored as a file or a
/// link (`d/f` then a file `d`: the path stored twice is `/d`).
fn twice(cx: &Ctx, layer: usize, findings: &[usize]) -> Vec<String> {
    use crate::load::index::{NodeKind, ROOT};
    findings
        .iter()
        .map(|&i| {
            let f = &cx.report.waste[i];
            let mut n = cx.index.parent(f.node);
            let mut at = f.node;
            while n != ROOT {
                if cx
                    .index
                    .changes(n)
                    .iter()
                    .any(|c| c.layer as usize == layer && c.kind != NodeKind::Dir)
                {
                    at = n;
                    break;
                }
                n = cx.index.parent(n);
            }
            crate::load::index::ImagePath(cx.index.path(at)).display()
        })
        .collect()
}
