//! The sitting's targets as an SVG bar chart: one bar per target, its
//! length how much of the target the measurement uses (1.0 is the target,
//! whichever way it points), green when it passes, red when it misses.
//!
//! Written by hand rather than with a plotting crate: a bar chart is a
//! few rectangles and labels, and SVG text needs no font files.

use std::fmt::Write as _;
use std::path::Path;

use super::report::Verdict;

const ROW: f64 = 22.0;
const LABEL: f64 = 470.0;
const PLOT: f64 = 380.0;
const VALUE: f64 = 170.0;
/// Scores past this are drawn at the edge, their value still printed.
const MAX_SCORE: f64 = 3.0;

/// Escapes text for an SVG text node.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The chart of `verdicts` as an SVG document.
pub fn svg(verdicts: &[Verdict]) -> String {
    let width = LABEL + PLOT + VALUE;
    let top = 48.0;
    let height = top + ROW * verdicts.len() as f64 + 30.0;
    let x = |score: f64| LABEL + PLOT * score.clamp(0.0, MAX_SCORE) / MAX_SCORE;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="white"/><text x="8" y="20" font-size="14" font-weight="bold">actix-bee, issue 26's targets: measured / target (1.0 = the target; shorter is better)</text>"#
    );
    let passed = verdicts.iter().filter(|v| v.ok()).count();
    let _ = writeln!(
        out,
        r#"<text x="8" y="38">{passed} of {} targets met; each bar: the counter example on its defaults beside bare actix-web and actix-session rendering the same page</text>"#,
        verdicts.len()
    );
    for (i, v) in verdicts.iter().enumerate() {
        let y = top + ROW * i as f64;
        let (fill, mark) = if v.ok() {
            ("#3a9a4a", "PASS")
        } else {
            ("#c8423b", "MISS")
        };
        let end = x(v.score());
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text><rect x="{LABEL}" y="{}" width="{:.1}" height="{}" fill="{fill}"/><text x="{}" y="{}">{mark} {:.2} ({})</text>"#,
            LABEL - 6.0,
            y + 15.0,
            esc(&v.what),
            y + 4.0,
            end - LABEL,
            ROW - 7.0,
            LABEL + PLOT + 6.0,
            y + 15.0,
            v.value,
            esc(&v.target()),
        );
    }
    let bottom = top + ROW * verdicts.len() as f64;
    for tick in [0.0, 1.0, 2.0, 3.0] {
        let tx = x(tick);
        let (stroke, dash) = if tick == 1.0 {
            ("black", "")
        } else {
            ("#bbb", r#" stroke-dasharray="3,3""#)
        };
        let _ = writeln!(
            out,
            r#"<line x1="{tx}" y1="{top}" x2="{tx}" y2="{bottom}" stroke="{stroke}"{dash}/><text x="{tx}" y="{}" text-anchor="middle">{tick:.0}×</text>"#,
            bottom + 16.0
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Writes the chart of `verdicts` to `path`.
pub fn write(path: &Path, verdicts: &[Verdict]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, svg(verdicts))
}
