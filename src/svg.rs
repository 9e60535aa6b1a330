//! Charts as a standalone SVG page, to put in a report: `run`, `compare` and `sweep` take
//! `--svg FILE`. Hand-written SVG 1.1 with no scripts or external references, so it opens
//! in any browser and pastes into documents.
//!
//! Every line also carries its numbers (`data-points="x,y x,y ..."`) and every chart its
//! axis ranges and plot box, so a program can read the figures back and check that the
//! drawing matches them.

use std::fmt::Write;

const WIDTH: f64 = 820.0;
const CHART_HEIGHT: f64 = 290.0;
/// The plot box inside a chart: margins for tick labels, the title and the axis label.
const LEFT: f64 = 78.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 66.0;
const PALETTE: [&str; 8] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

/// One line: its name and its points (`None` leaves a gap).
pub struct Line {
    pub name: String,
    pub points: Vec<(f64, Option<f64>)>,
    pub dashed: bool,
}

impl Line {
    pub fn new(name: impl Into<String>, points: Vec<(f64, Option<f64>)>) -> Line {
        Line { name: name.into(), points, dashed: false }
    }
}

/// A fault on a time chart: a shaded band over `from..to` (a partition until its heal, a
/// slow-down until it ends) or, with no `to`, a vertical mark at `from` (a crash, a heal).
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub from: f64,
    pub to: Option<f64>,
    pub label: String,
}

/// A chart of lines over one x axis.
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub lines: Vec<Line>,
    /// A horizontal reference line (a target), with its label.
    pub target: Option<(f64, String)>,
    /// A marked point (the knee of a sweep), with its label.
    pub mark: Option<(f64, f64, String)>,
    /// An x range to shade (the warm-up), with its label.
    pub shade: Option<(f64, f64, String)>,
    /// Faults over the x axis (time charts only), drawn under the lines.
    pub markers: Vec<Marker>,
}

impl Chart {
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Chart {
        Chart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            lines: Vec::new(),
            target: None,
            mark: None,
            shade: None,
            markers: Vec::new(),
        }
    }
}

/// Escapes text for an XML attribute or element.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// Tick positions: about five round numbers (1, 2 or 5 times a power of ten) over `lo..hi`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| span / s <= 6.0).unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A number as a tick label: no more digits than it needs.
fn label(x: f64) -> String {
    let trim = |s: String| s.trim_end_matches('0').trim_end_matches('.').to_string();
    let a = x.abs();
    if x == 0.0 {
        "0".into()
    } else if a >= 1e6 {
        trim(format!("{:.3}", x / 1e6)) + "M"
    } else if a >= 1e4 {
        trim(format!("{:.1}", x / 1e3)) + "k"
    } else if a >= 1.0 {
        trim(format!("{x:.2}"))
    } else {
        trim(format!("{x:.4}"))
    }
}

/// The axis range of the chart: x over every point; y from zero (or the lowest value,
/// if negative) to a little above the highest value or the target.
fn ranges(c: &Chart) -> ((f64, f64), (f64, f64)) {
    let xs = c.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let ys = c.lines.iter().flat_map(|l| l.points.iter().filter_map(|p| p.1)).chain(c.target.as_ref().map(|t| t.0));
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in xs.filter(|x| x.is_finite()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
    }
    let (mut y0, mut y1) = (0.0f64, f64::NEG_INFINITY);
    for y in ys.filter(|y| y.is_finite()) {
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if !y1.is_finite() || y1 <= y0 {
        y1 = y0 + 1.0;
    }
    ((x0, x1), (y0, y1 * 1.08))
}

/// Draws one chart with its top edge at `y`.
fn chart(out: &mut String, c: &Chart, y: f64) {
    let ((x0, x1), (y0, y1)) = ranges(c);
    let (w, h) = (WIDTH - LEFT - RIGHT, CHART_HEIGHT - TOP - BOTTOM);
    let (left, top) = (LEFT, y + TOP);
    let px = |x: f64| left + (x - x0) / (x1 - x0) * w;
    let py = |v: f64| top + (y1 - v) / (y1 - y0) * h;
    let _ = writeln!(
        out,
        r#"<g class="chart" data-title="{}" data-x0="{x0}" data-x1="{x1}" data-y0="{y0}" data-y1="{y1}" data-left="{left}" data-top="{top}" data-width="{w}" data-height="{h}">"#,
        esc(&c.title)
    );
    let _ = writeln!(out, r#"<text x="{left}" y="{}" class="title">{}</text>"#, y + 20.0, esc(&c.title));
    if let Some((a, b, name)) = &c.shade {
        let (a, b) = (px(a.max(x0)), px(b.min(x1)));
        if b > a {
            let _ = writeln!(
                out,
                r##"<rect x="{a:.1}" y="{top:.1}" width="{:.1}" height="{h:.1}" fill="#eeeeee"><title>{}</title></rect>"##,
                b - a,
                esc(name)
            );
            let _ =
                writeln!(out, r#"<text x="{:.1}" y="{:.1}" class="note">{}</text>"#, a + 4.0, top + 12.0, esc(name));
        }
    }
    markers(out, c, x0, x1, &px, top, h);
    for t in ticks(y0, y1) {
        let _ = writeln!(
            out,
            r##"<line x1="{left}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#dddddd"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text>"##,
            left + w,
            left - 6.0,
            py(t) + 4.0,
            label(t),
            yy = py(t)
        );
    }
    for t in ticks(x0, x1) {
        let _ = writeln!(
            out,
            r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{top:.1}" y2="{:.1}" stroke="#eeeeee"/><text x="{xx:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text>"##,
            top + h,
            top + h + 16.0,
            label(t),
            xx = px(t)
        );
    }
    let _ = writeln!(out, r##"<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#444444"/>"##);
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" class="axis" text-anchor="middle">{}</text>"#,
        left + w / 2.0,
        top + h + 32.0,
        esc(&c.x_label)
    );
    let _ = writeln!(
        out,
        r#"<text transform="translate({:.1},{:.1}) rotate(-90)" class="axis" text-anchor="middle">{}</text>"#,
        left - 56.0,
        top + h / 2.0,
        esc(&c.y_label)
    );
    if let Some((v, name)) = &c.target {
        let _ = writeln!(
            out,
            r##"<line class="target" data-value="{v}" x1="{left}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#555555" stroke-dasharray="6 4"/><text x="{:.1}" y="{:.1}" class="note" text-anchor="end">{}</text>"##,
            left + w,
            left + w - 4.0,
            py(*v) - 4.0,
            esc(name),
            yy = py(*v)
        );
    }
    let mut legend_x = left;
    for (i, line) in c.lines.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut d = String::new();
        let mut data = String::new();
        let mut pen_down = false;
        for &(x, v) in &line.points {
            match v.filter(|v| v.is_finite()) {
                Some(v) => {
                    let _ = write!(d, "{}{:.2} {:.2} ", if pen_down { "L" } else { "M" }, px(x), py(v));
                    let _ = write!(data, "{x},{v} ");
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let dash = if line.dashed { r#" stroke-dasharray="5 3""# } else { "" };
        let _ = writeln!(
            out,
            r#"<path class="line" data-series="{}" data-points="{}" d="{}" fill="none" stroke="{color}" stroke-width="1.6"{dash}/>"#,
            esc(&line.name),
            data.trim_end(),
            d.trim_end()
        );
        let (lx, ly) = (legend_x, top + h + 54.0);
        legend_x += 34.0 + 6.5 * line.name.chars().count() as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{lx:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="3"{dash}/><text x="{:.1}" y="{ly:.1}" class="legend">{}</text>"#,
            lx + 18.0,
            ly - 4.0,
            ly - 4.0,
            lx + 22.0,
            esc(&line.name)
        );
    }
    if !c.markers.is_empty() {
        let ly = top + h + 54.0;
        let _ = writeln!(
            out,
            r##"<rect x="{legend_x:.1}" y="{:.1}" width="18" height="10" fill="{BAND}" fill-opacity="0.45"/><text x="{:.1}" y="{ly:.1}" class="legend">fault while it lasts</text>"##,
            ly - 9.0,
            legend_x + 22.0
        );
        legend_x += 34.0 + 6.5 * "fault while it lasts".len() as f64;
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{ly:.1}" stroke="{MARK}" stroke-width="2" stroke-dasharray="4 3"/><text x="{:.1}" y="{ly:.1}" class="legend">instant fault</text>"##,
            ly - 10.0,
            legend_x + 10.0,
            x = legend_x + 4.0
        );
    }
    if let Some((x, v, name)) = &c.mark {
        let _ = writeln!(
            out,
            r##"<circle class="mark" data-x="{x}" data-y="{v}" cx="{:.2}" cy="{:.2}" r="6" fill="none" stroke="#000000" stroke-width="2"/><text x="{:.1}" y="{:.1}" class="note">{}</text>"##,
            px(*x),
            py(*v),
            px(*x) + 9.0,
            py(*v) - 9.0,
            esc(name)
        );
    }
    out.push_str("</g>\n");
}

const BAND: &str = "#f4a6a0";
const MARK: &str = "#b22222";

/// Draws `c`'s faults: bands and vertical marks at their times on the x scale `px`, each
/// with its label near the top of the plot (below the warm-up's), in three rows so marks
/// close together stay readable; each carries its times (`data-from`, `data-to`, `data-at`) for programs.
fn markers(out: &mut String, c: &Chart, x0: f64, x1: f64, px: &dyn Fn(f64) -> f64, top: f64, h: f64) {
    for (i, m) in c.markers.iter().enumerate() {
        let ly = top + 26.0 + 12.0 * (i % 3) as f64;
        match m.to {
            Some(to) if to > x0 && m.from < x1 => {
                let (a, b) = (px(m.from.max(x0)), px(to.min(x1)));
                let _ = writeln!(
                    out,
                    r##"<rect class="fault" data-label="{label}" data-from="{}" data-to="{to}" x="{a:.2}" y="{top:.1}" width="{:.2}" height="{h:.1}" fill="{BAND}" fill-opacity="0.45"><title>{label}</title></rect>"##,
                    m.from,
                    b - a,
                    label = esc(&m.label)
                );
                let _ = writeln!(out, r#"<text x="{:.1}" y="{ly:.1}" class="note">{}</text>"#, a + 3.0, esc(&m.label));
            }
            None if (x0..=x1).contains(&m.from) => {
                let x = px(m.from);
                let _ = writeln!(
                    out,
                    r##"<line class="fault" data-label="{label}" data-at="{}" x1="{x:.2}" x2="{x:.2}" y1="{top:.1}" y2="{:.1}" stroke="{MARK}" stroke-width="1.5" stroke-dasharray="4 3"><title>{label}</title></line>"##,
                    m.from,
                    top + h,
                    label = esc(&m.label)
                );
                let _ = writeln!(out, r#"<text x="{:.1}" y="{ly:.1}" class="note">{}</text>"#, x + 3.0, esc(&m.label));
            }
            _ => {}
        }
    }
}

/// A page of charts stacked one above the other, under a heading.
pub fn page(heading: &str, charts: &[Chart]) -> String {
    let height = 40.0 + CHART_HEIGHT * charts.len() as f64 + 10.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif">"#
    );
    out.push_str(
        "<style>.title{font-size:14px;font-weight:bold}.tick{font-size:11px;fill:#444}\
         .axis{font-size:12px}.legend{font-size:12px}.note{font-size:11px;fill:#333}\
         .heading{font-size:16px;font-weight:bold}</style>\n",
    );
    out.push_str(r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    out.push('\n');
    let _ = writeln!(out, r#"<text x="{LEFT}" y="26" class="heading">{}</text>"#, esc(heading));
    for (i, c) in charts.iter().enumerate() {
        chart(&mut out, c, 40.0 + CHART_HEIGHT * i as f64);
    }
    out.push_str("</svg>\n");
    out
}

/// Writes `text` to `path`, naming the file in the error.
pub fn write(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    std::fs::write(path, text).with_context(|| format!("cannot write the SVG file `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside_the_range() {
        assert_eq!(ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(0.0, 300.0), vec![0.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0]);
        let t = ticks(0.0, 0.0537);
        assert!(t.len() >= 3 && t.len() <= 7 && *t.last().unwrap() <= 0.0537, "{t:?}");
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(label(250.0), "250");
        assert_eq!(label(2.5), "2.5");
        assert_eq!(label(0.05), "0.05");
        assert_eq!(label(20000.0), "20k");
        assert_eq!(label(2_500_000.0), "2.5M");
    }

    #[test]
    fn names_are_escaped() {
        let mut c = Chart::new("a < b & \"c\"", "x", "y");
        c.lines.push(Line::new("p<99>", vec![(0.0, Some(1.0)), (1.0, None), (2.0, Some(3.0))]));
        let svg = page("h", &[c]);
        assert!(svg.contains("a &lt; b &amp; &quot;c&quot;") && svg.contains("p&lt;99&gt;"));
        assert!(svg.contains(r#"data-points="0,1 2,3""#), "the gap is left out of the data");
        let d = svg.split(" d=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("a path");
        assert_eq!(d.matches('M').count(), 2, "the gap lifts the pen: {d}");
        assert_eq!(d.matches('L').count(), 0, "{d}");
    }
}
