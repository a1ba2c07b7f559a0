//! The text report's "Packages" and "Binaries" sections.

use std::fmt::Write;

use super::human;
use super::text::wrap_into;
use crate::load::elf::{ElfKind, Linkage};
use crate::present::{pct, truncate};
use crate::suggest::Report;

/// Packages listed in the text report.
const TOP: usize = 15;
/// Insights listed in the text report.
const TOP_INSIGHTS: usize = 20;

pub fn write_sections(o: &mut String, r: &Report) {
    let ps = &r.package_summary;
    if !r.packages.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Packages   {} installed: {} visible ({} of visible), {} wasted; not in a package: {} visible, {} wasted",
            ps.installed,
            human(ps.visible_bytes),
            pct(ps.visible_bytes, r.summary.visible_bytes),
            human(ps.wasted_bytes),
            human(ps.no_package_visible_bytes),
            human(ps.no_package_wasted_bytes),
        );
        let _ = writeln!(
            o,
            "  {:>10}  {:>10}  {:>6}  {:>5}  Package",
            "Visible", "Wasted", "Files", "Layer"
        );
        for p in r.packages.iter().take(TOP) {
            let _ = writeln!(
                o,
                "  {:>10}  {:>10}  {:>6}  {:>5}  {}:{} {}{}",
                human(p.visible_bytes),
                if p.wasted_bytes == 0 {
                    "-".to_string()
                } else {
                    human(p.wasted_bytes)
                },
                p.files,
                p.layer.map(|l| l.to_string()).unwrap_or_else(|| "?".into()),
                p.manager,
                p.name,
                truncate(&p.version, 30),
                if p.installed { "" } else { "  (removed later)" }
            );
        }
        if r.packages.len() > TOP {
            let _ = writeln!(o, "  … and {} more", r.packages.len() - TOP);
        }
    }
    if !r.binaries.is_empty() {
        let exe = |l: Linkage| {
            r.binaries
                .iter()
                .filter(|b| b.kind == ElfKind::Executable && b.linkage == l)
                .count()
        };
        let libs = r
            .binaries
            .iter()
            .filter(|b| b.kind == ElfKind::SharedLibrary)
            .count();
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Binaries   {} executables ({} dynamic, {} static, {} static-pie), {} shared libraries",
            exe(Linkage::Dynamic) + exe(Linkage::Static) + exe(Linkage::StaticPie),
            exe(Linkage::Dynamic),
            exe(Linkage::Static),
            exe(Linkage::StaticPie),
            libs
        );
    }
    if !r.insights.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "Insights ({})", r.insights.len());
        for i in r.insights.iter().take(TOP_INSIGHTS) {
            let head = format!(
                "  {:<20} {:>10}  ",
                i.id,
                if i.bytes == 0 {
                    "-".to_string()
                } else {
                    human(i.bytes)
                }
            );
            let pkg = i
                .package
                .as_deref()
                .map(|p| format!(" [{p}]"))
                .unwrap_or_default();
            let text = format!(
                "{} (layer {}){pkg}: {}",
                i.path.display(),
                i.layer,
                i.message
            );
            wrap_into(o, &head, &text, 110);
        }
        if r.insights.len() > TOP_INSIGHTS {
            let _ = writeln!(o, "  … and {} more", r.insights.len() - TOP_INSIGHTS);
        }
    }
}
