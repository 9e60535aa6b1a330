//! The main screen: status bar, topology, charts, a tab bar and the selected panel
//! (components, log, inspector, request, why, consistency), the lesson or guided step,
//! and the key bar.

use super::{Palette, fit, thousands};
use crate::app::{App, Panel};
use crate::snapshot::{Chart, Health, Service, Snapshot};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Dataset, GraphType, Paragraph};
use sim_core::model::fault_span::FaultSpan;

pub fn draw(app: &App, s: &Snapshot, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let [status, body, hint] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
    // Room for every chart's line and the fault row (and the big chart when tall enough).
    let top_h = ((body.height - (body.height / 4).max(4)) / 2).max(s.charts.len() as u16 + 3);
    // A short terminal keeps one line of lesson (l shows it all) and gives the panel the
    // rest; a guided step takes what it needs, leaving the panel six lines at least.
    let spare = body.height.saturating_sub(top_h + 1 + 6).max(4);
    let lesson_h = match &s.step {
        Some(step) => (super::steps::lines_needed(step, area.width.saturating_sub(2)) + 2).clamp(4, spare),
        None if body.height < 30 => 3,
        None => (body.height / 4).max(4),
    };
    let [top, tabs, panel, lesson] = Layout::vertical([
        Constraint::Length(top_h),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(lesson_h),
    ])
    .areas(body);
    let [topo, charts] = Layout::horizontal([Constraint::Percentage(52), Constraint::Percentage(48)]).areas(top);

    frame.render_widget(Paragraph::new(status_line(s, p)), status);
    frame.render_widget(topology(app, s, p, topo), topo);
    draw_charts(app, s, p, frame, charts);
    frame.render_widget(Paragraph::new(tab_bar(app, s, p, tabs.width as usize)), tabs);
    match app.panel {
        Panel::Components => frame.render_widget(super::components::table(app, s, p, panel), panel),
        Panel::Events => frame.render_widget(super::log::notes(app, s, p, panel), panel),
        Panel::Inspector => frame.render_widget(super::log::inspector(app, s, p, panel), panel),
        Panel::Request => frame.render_widget(super::request::waterfall(app, s, p, panel), panel),
        Panel::Why => frame.render_widget(super::why::why(app, s, p, panel), panel),
        Panel::Consistency => frame.render_widget(super::why::consistency(app, s, p, panel), panel),
    }
    frame.render_widget(super::steps::lesson_or_step(s, p, lesson), lesson);
    frame.render_widget(Paragraph::new(key_bar(app, p, area.width as usize)), hint);
}

/// The key bar: what the keys do here, cut in the middle so `? help` and `q quit` always show.
fn key_bar(app: &App, p: Palette, width: usize) -> Line<'static> {
    if let Some(m) = app.message.as_ref().filter(|m| !m.is_empty()) {
        return Line::styled(fit(m, width), p.fg(Color::Red));
    }
    if app.typing {
        return Line::styled(fit(&format!(" filter: {}█  (enter keeps it, esc clears)", app.filter), width), p.bold());
    }
    let tail = " · ? help · q quit";
    let head = " space play · . step · , back · ] +1s · [ -1s · tab panel · ↑↓ select · enter detail · t follow · f faults · +/- speed · w save · l lesson";
    let room = width.saturating_sub(tail.chars().count());
    Line::styled(format!("{}{tail}", fit(head, room)), p.dim())
}

fn tab_bar(app: &App, s: &Snapshot, p: Palette, width: usize) -> Line<'static> {
    let mut spans = Vec::new();
    for (k, panel) in Panel::ALL.iter().enumerate() {
        let mut name = panel.title().to_string();
        if *panel == Panel::Consistency && !s.checked_data {
            name.push('·');
        }
        let text = format!(" {} {name} ", k + 1);
        spans.push(if *panel == app.panel { Span::styled(text, p.selected()) } else { Span::styled(text, p.dim()) });
    }
    let used: usize = spans.iter().map(|sp| sp.content.chars().count()).sum();
    if let Some(i) = s.insight.as_ref() {
        let b = match &i.bottleneck {
            Some(w) => format!(" ⚠ bottleneck: {} ({:.0}%)", w.service, 100.0 * w.utilization),
            None => String::new(),
        };
        spans.push(Span::styled(fit(&b, width.saturating_sub(used)), p.fg(Color::Red)));
    }
    Line::from(spans)
}

fn status_line(s: &Snapshot, p: Palette) -> Line<'static> {
    let state = if s.finished {
        "■ finished"
    } else if s.playing {
        "▶ playing"
    } else {
        "❚❚ paused"
    };
    let speed = if s.speed == 0.0 { "max speed".to_string() } else { format!("×{}", s.speed) };
    let faults = match (s.hand_faults, s.unsaved) {
        (0, _) => String::new(),
        (n, 0) => format!(" │ {n} by hand"),
        (n, u) => format!(" │ {n} by hand, {u} unsaved"),
    };
    Line::from(vec![
        Span::styled(format!(" {} ", s.name), p.selected()),
        Span::raw(format!(
            " seed {} │ {:.3}/{:.0} s │ {speed} │ {state} │ {} events{faults}",
            s.seed,
            s.now.as_nanos() as f64 / 1e9,
            s.end.as_nanos() as f64 / 1e9,
            thousands(s.events),
        )),
    ])
}

pub fn health_color(h: Health) -> Color {
    match h {
        Health::Up => Color::Green,
        Health::Busy => Color::Yellow,
        Health::Saturated | Health::MarkedDown | Health::Down => Color::Red,
        Health::Slow => Color::Magenta,
    }
}

/// One line a service: name, an instance symbol each (with its partition side), calls.
/// The selected instance's service is shown (scrolled to) and marked `›`; the bottleneck
/// is marked `⚠`. Services cut off say how many there are above and below.
fn topology(app: &App, s: &Snapshot, p: Palette, area: Rect) -> Paragraph<'static> {
    let width = area.width.saturating_sub(2) as usize;
    let room = area.height.saturating_sub(2) as usize;
    let selected = app.rows().get(app.cursor).map(|&(k, _)| k);
    let bottleneck = s.insight.as_ref().and_then(|i| i.bottleneck.as_ref()).map(|w| w.service.as_str());
    let mut lines: Vec<Line> = Vec::new();
    let name_w = s.services.iter().map(|svc| svc.name.chars().count()).max().unwrap_or(8).clamp(8, 14);
    for (k, svc) in s.services.iter().enumerate() {
        let mark = if Some(svc.name.as_str()) == bottleneck {
            "⚠"
        } else if Some(k) == selected {
            "›"
        } else {
            " "
        };
        let name_style =
            if Some(svc.name.as_str()) == bottleneck { p.fg(Color::Red).patch(p.bold()) } else { p.bold() };
        let name = format!("{:<w$} ", fit(&svc.name, name_w), w = name_w);
        let mut spans = vec![Span::raw(mark), Span::styled(name, name_style)];
        let slots = width.saturating_sub(name_w + 2 + 14) / 2;
        for (j, i) in svc.instances.iter().enumerate() {
            if j >= slots.max(1) {
                spans.push(Span::raw(format!("+{} ", svc.instances.len() - j)));
                break;
            }
            let side = if i.side > 0 { char::from(b'A' + i.side - 1).to_string() } else { String::new() };
            spans.push(Span::styled(format!("{}{side}", i.health.symbol()), p.fg(health_color(i.health))));
            spans.push(Span::raw(" "));
        }
        if let Some(mode) = svc.mode {
            spans.push(Span::raw(format!("[{}] ", mode.to_uppercase())));
        }
        if !svc.calls.is_empty() {
            spans.push(Span::styled(format!("→ {}", svc.calls.join(", ")), p.dim()));
        }
        spans.extend(breaker_spans(svc, p));
        if let Some(x) = svc.retry_load {
            // Retries' extra load on this service: a storm shows as a big multiple.
            let style = if x >= 1.5 { p.fg(Color::Red).patch(p.bold()) } else { p.dim() };
            spans.push(Span::styled(format!(" ↻ {x:.1}x calls (retries)"), style));
        }
        lines.push(Line::from(spans));
    }
    // Keep the selected service in view; say what is cut above and below.
    let total = lines.len();
    if total > room {
        let (a, b) = super::window(total, room, selected.unwrap_or(0));
        let mut shown: Vec<Line> = Vec::new();
        if a > 0 {
            shown.push(Line::styled(format!(" ↑ {a} more services"), p.dim()));
        }
        shown.extend(lines[a..b].iter().cloned());
        if b < total {
            shown.push(Line::styled(format!(" ↓ {} more services (↑↓ selects)", total - b), p.dim()));
        }
        lines = shown;
    }
    let legend = "●ok ◐busy ◉full ~slow ▽out ✖down A|B ⚠limit";
    let title = if s.partitioned { " topology ✂ PARTITIONED " } else { " topology " };
    Paragraph::new(lines).block(Block::bordered().title(title).title_bottom(Line::styled(fit(legend, width), p.dim())))
}

/// Each of a service's calls made through circuit breakers: "⚡ open" in red or
/// "half-open" in yellow while any instance's is, with how many of several; closed plain.
/// The callee is named when the service calls more than one.
fn breaker_spans(svc: &Service, p: Palette) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for e in &svc.breakers {
        let of = |n: usize| if e.of > 1 { format!(" {n}/{}", e.of) } else { String::new() };
        let to = if svc.calls.len() > 1 { e.to.as_str() } else { "" };
        let (text, style) = if e.open > 0 {
            (format!(" ⚡{to} open{}", of(e.open)), p.fg(Color::Red).patch(p.bold()))
        } else if e.half_open > 0 {
            (format!(" ⚡{to} half-open{}", of(e.half_open)), p.fg(Color::Yellow))
        } else {
            (format!(" ⚡{to} closed"), p.dim())
        };
        spans.push(Span::styled(text, style));
    }
    spans
}

/// Eight-level bars of the last `width` values, scaled to their maximum.
fn sparkline(points: &[(f64, f64)], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let tail = &points[points.len().saturating_sub(width)..];
    let max = tail.iter().map(|p| p.1).fold(0.0, f64::max);
    tail.iter()
        .map(|&(_, v)| if max > 0.0 { BARS[((v / max) * 7.0).round().clamp(0.0, 7.0) as usize] } else { BARS[0] })
        .collect()
}

pub fn spark(points: &[(f64, f64)], width: usize) -> String {
    sparkline(points, width)
}

/// The symbol a fault has on the charts' fault row.
fn mark_symbol(m: &FaultSpan) -> char {
    match m.label.split(' ').next().unwrap_or("") {
        "crash" => '✖',
        "restart" => '●',
        "partition" | "flaky" | "one-way" => '✂',
        "heal" => '✚',
        "slow" => '~',
        "surge" => '▲',
        _ => '|',
    }
}

/// The fault row under the sparklines: at each chart point's second, the fault in force
/// (a band) or starting then (a moment), else a space.
fn fault_row(marks: &[FaultSpan], seconds: &[f64]) -> String {
    seconds
        .iter()
        .map(|&t| {
            let in_force = |m: &&FaultSpan| {
                let from = m.from.as_nanos() as f64 / 1e9;
                let to = m.to.map_or(f64::INFINITY, |x| x.as_nanos() as f64 / 1e9);
                if m.to.is_some() { from < t + 1.0 && t < to } else { from >= t && from < t + 1.0 }
            };
            marks.iter().rev().find(in_force).map_or(' ', mark_symbol)
        })
        .collect()
}

fn value(c: &Chart) -> String {
    match c.last() {
        None => "—".into(),
        Some(v) if v >= 1000.0 => format!("{:.0}", v),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

fn draw_charts(app: &App, s: &Snapshot, p: Palette, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(" over simulated time ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = s.charts.len() as u16 + 1;
    let (big, list) = if inner.height >= rows + 8 {
        let [a, b] = Layout::vertical([Constraint::Min(6), Constraint::Length(rows)]).areas(inner);
        (Some(a), b)
    } else {
        (None, inner)
    };
    let w = list.width as usize;
    let spark_w = w.saturating_sub(31);
    let mut lines: Vec<Line> = s
        .charts
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let marker = if k == app.chart { "›" } else { " " };
            let label = format!("{marker}{:<15}{:>8} {:<6}", fit(c.name, 15), value(c), fit(c.unit, 6));
            Line::from(vec![
                Span::styled(fit(&label, 31), if k == app.chart { p.bold() } else { p.dim() }),
                Span::styled(sparkline(&c.points, spark_w), p.fg(Color::Cyan)),
            ])
        })
        .collect();
    // The fault row shares the throughput chart's seconds (every series chart has them).
    let seconds: Vec<f64> = s
        .charts
        .first()
        .map_or(Vec::new(), |c| c.points[c.points.len().saturating_sub(spark_w)..].iter().map(|p| p.0).collect());
    let row = fault_row(&s.marks, &seconds);
    let label = if s.marks.is_empty() { " faults: none" } else { " faults ✖crash ✂cut ~slow" };
    lines.push(Line::from(vec![
        Span::styled(format!("{:<31}", fit(label, 31)), p.dim()),
        Span::styled(row, p.fg(Color::Red)),
    ]));
    frame.render_widget(Paragraph::new(lines), list);
    if let (Some(big), Some(c)) = (big, s.charts.get(app.chart)) {
        let data: Vec<(f64, f64)> = c.points.clone();
        let (x0, x1) = (data.first().map_or(0.0, |d| d.0), data.last().map_or(1.0, |d| d.0).max(1.0));
        let ymax = data.iter().map(|d| d.1).fold(0.0, f64::max).max(1e-9) * 1.1;
        // Each fault's start (and a band's end) as a vertical line.
        let mut edges: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut named: Vec<String> = Vec::new();
        for m in &s.marks {
            let from = m.from.as_nanos() as f64 / 1e9;
            let to = m.to.map(|t| t.as_nanos() as f64 / 1e9);
            let shown = |t: f64| t >= x0 && t <= x1;
            if shown(from) || to.is_some_and(shown) || (from < x0 && to.is_some_and(|t| t > x1)) {
                named.push(match to {
                    Some(t) => format!("{} {:.0}-{:.0}s {}", mark_symbol(m), from, t, m.label),
                    None => format!("{} {:.0}s {}", mark_symbol(m), from, m.label),
                });
            }
            for t in std::iter::once(from).chain(to) {
                if shown(t) {
                    edges.push(vec![(t, 0.0), (t, ymax)]);
                }
            }
        }
        let mut datasets = vec![
            Dataset::default().marker(Marker::Braille).graph_type(GraphType::Line).style(p.fg(Color::Cyan)).data(&data),
        ];
        for e in &edges {
            datasets.push(
                Dataset::default().marker(Marker::Dot).graph_type(GraphType::Line).style(p.fg(Color::Red)).data(e),
            );
        }
        let chart = ratatui::widgets::Chart::new(datasets)
            .x_axis(Axis::default().bounds([x0, x1]).labels([
                format!("{x0:.0}s"),
                "simulated time".to_string(),
                format!("{x1:.0}s"),
            ]))
            .y_axis(
                Axis::default()
                    .bounds([0.0, ymax])
                    .labels([format!("0 {}", c.unit), format!("{:.1} {}", ymax / 1.1, c.unit)]),
            );
        let marks_h = if named.is_empty() { 0 } else { 1 };
        let [title, plot, legend] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(marks_h)]).areas(big);
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {} ({}) · c: next chart", c.name, c.unit), p.bold())),
            title,
        );
        frame.render_widget(chart, plot);
        if !named.is_empty() {
            let text = fit(&format!(" │ = {}", named.join(" · ")), legend.width as usize);
            frame.render_widget(Paragraph::new(Line::styled(text, p.fg(Color::Red))), legend);
        }
    }
}
