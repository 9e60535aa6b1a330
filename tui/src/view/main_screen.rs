//! The main screen: status bar, topology, charts, component table, event log, lesson.

use super::{Palette, fit, thousands};
use crate::app::App;
use crate::snapshot::{Chart, Health, LogKind, Snapshot};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Dataset, GraphType, Paragraph, Wrap};

pub fn draw(app: &App, s: &Snapshot, frame: &mut Frame, area: Rect) {
    let p = Palette::of(app);
    let [status, body, hint] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let lesson_h = (body.height / 4).max(4);
    // Room for every chart's line (and the big chart when tall enough).
    let top_h = ((body.height - lesson_h) / 2).max(s.charts.len() as u16 + 2);
    let [top, middle, lesson] =
        Layout::vertical([Constraint::Length(top_h), Constraint::Min(1), Constraint::Length(lesson_h)]).areas(body);
    let split = |r: Rect| Layout::horizontal([Constraint::Percentage(52), Constraint::Percentage(48)]).areas::<2>(r);
    let [topo, charts] = split(top);
    let [table, log] = split(middle);

    frame.render_widget(Paragraph::new(status_line(s, p)), status);
    frame.render_widget(topology(s, p, topo), topo);
    draw_charts(app, s, p, frame, charts);
    frame.render_widget(component_table(s, p, table), table);
    frame.render_widget(event_log(s, p, log), log);
    frame.render_widget(lesson_text(s, p), lesson);
    let line = match &app.message {
        Some(m) if !m.is_empty() => Line::styled(fit(m, area.width as usize), p.fg(Color::Red)),
        _ => Line::styled(
            fit(
                " space play · . step · , back · ] +1s · [ -1s · +/- speed · f faults · w save · l lesson · ? help · q quit",
                area.width as usize,
            ),
            p.dim(),
        ),
    };
    frame.render_widget(Paragraph::new(line), hint);
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
    let faults = if s.hand_faults > 0 { format!(" │ {} by hand", s.hand_faults) } else { String::new() };
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

fn health_color(h: Health) -> Color {
    match h {
        Health::Up => Color::Green,
        Health::Busy => Color::Yellow,
        Health::Saturated | Health::MarkedDown | Health::Down => Color::Red,
        Health::Slow => Color::Magenta,
    }
}

/// One line a service: name, an instance symbol each (with its partition side), calls.
fn topology(s: &Snapshot, p: Palette, area: Rect) -> Paragraph<'static> {
    let width = area.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    for svc in &s.services {
        let mut spans = vec![Span::styled(format!("{:<11}", fit(&svc.name, 11)), p.bold())];
        let room = width.saturating_sub(12 + 14) / 2;
        for (k, i) in svc.instances.iter().enumerate() {
            if k >= room.max(1) {
                spans.push(Span::raw(format!("+{} ", svc.instances.len() - k)));
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
        lines.push(Line::from(spans));
    }
    let legend = "●ok ◐busy ◉full ~slow ▽out ✖down A|B";
    let title = if s.partitioned { " topology ✂ PARTITIONED " } else { " topology " };
    Paragraph::new(lines).block(Block::bordered().title(title).title_bottom(Line::styled(fit(legend, width), p.dim())))
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
    let rows = s.charts.len() as u16;
    let (big, list) = if inner.height >= rows + 8 {
        let [a, b] = Layout::vertical([Constraint::Min(6), Constraint::Length(rows)]).areas(inner);
        (Some(a), b)
    } else {
        (None, inner)
    };
    let w = list.width as usize;
    let spark_w = w.saturating_sub(27);
    let lines: Vec<Line> = s
        .charts
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let marker = if k == app.chart { "›" } else { " " };
            let label = format!("{marker}{:<15}{:>8} ", c.name, value(c));
            Line::from(vec![
                Span::styled(fit(&label, 25), if k == app.chart { p.bold() } else { p.dim() }),
                Span::styled(sparkline(&c.points, spark_w), p.fg(Color::Cyan)),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    if let (Some(big), Some(c)) = (big, s.charts.get(app.chart)) {
        let data: Vec<(f64, f64)> = c.points.clone();
        let (x0, x1) = (data.first().map_or(0.0, |d| d.0), data.last().map_or(1.0, |d| d.0).max(1.0));
        let ymax = data.iter().map(|d| d.1).fold(0.0, f64::max).max(1e-9) * 1.1;
        let dataset =
            Dataset::default().marker(Marker::Braille).graph_type(GraphType::Line).style(p.fg(Color::Cyan)).data(&data);
        let chart = ratatui::widgets::Chart::new(vec![dataset])
            .x_axis(Axis::default().bounds([x0, x1]).labels([format!("{x0:.0}s"), format!("{x1:.0}s")]))
            .y_axis(
                Axis::default().bounds([0.0, ymax]).labels(["0".to_string(), format!("{:.1} {}", ymax / 1.1, c.unit)]),
            );
        let [title, plot] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(big);
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {} ({}) · c: next chart", c.name, c.unit), p.bold())),
            title,
        );
        frame.render_widget(chart, plot);
    }
}

fn component_table(s: &Snapshot, p: Palette, area: Rect) -> Paragraph<'static> {
    let width = area.width.saturating_sub(2) as usize;
    let header = format!("{:<12}{:<13}{:>5}{:>7}  {}", "instance", "state", "util", "wait", "note");
    let mut lines = vec![Line::styled(fit(&header, width), p.bold())];
    let pct = |x: Option<f64>| x.map_or("—".to_string(), |u| format!("{:.0}%", 100.0 * u));
    let num =
        |x: Option<f64>| x.map_or("—".to_string(), |w| if w >= 100.0 { format!("{w:.0}") } else { format!("{w:.1}") });
    let mut rows: Vec<Line> = Vec::new();
    for svc in s.services.iter().filter(|svc| svc.kind != "clients") {
        for (k, i) in svc.instances.iter().enumerate() {
            let side = if i.side > 0 { format!(" side {}", char::from(b'A' + i.side - 1)) } else { String::new() };
            let note =
                if k == 0 { format!("{}{side}", svc.detail).trim().to_string() } else { side.trim().to_string() };
            let text = format!(
                "{:<12}{:<13}{:>5}{:>7}  {}",
                fit(&i.name, 11),
                format!("{} {}", i.health.symbol(), i.health.word()),
                pct(i.util),
                num(i.waiting),
                note
            );
            rows.push(Line::styled(fit(&text, width), p.fg(health_color(i.health))));
        }
    }
    let room = area.height.saturating_sub(3) as usize;
    if rows.len() > room {
        let more = rows.len() - room + 1;
        rows.truncate(room.saturating_sub(1));
        rows.push(Line::styled(format!("… {more} more (a taller terminal shows them)"), p.dim()));
    }
    lines.extend(rows);
    let title = if s.now < s.warmup_end {
        format!(" components (warm-up: load from {:.0} s) ", s.warmup_end.as_nanos() as f64 / 1e9)
    } else {
        " components (last simulated second) ".to_string()
    };
    Paragraph::new(lines).block(Block::bordered().title(title))
}

fn event_log(s: &Snapshot, p: Palette, area: Rect) -> Paragraph<'static> {
    let width = area.width.saturating_sub(2) as usize;
    let room = area.height.saturating_sub(2) as usize;
    let from = s.log.len().saturating_sub(room);
    let lines: Vec<Line> = s.log[from..]
        .iter()
        .map(|l| {
            let color = match l.kind {
                LogKind::Fault | LogKind::Failed => Color::Red,
                LogKind::Alarm => Color::Yellow,
                LogKind::Recovery => Color::Green,
                LogKind::Info => Color::Reset,
            };
            let t = l.t.as_nanos() as f64 / 1e9;
            Line::styled(fit(&format!("{t:>8.3}s {}", l.text), width), p.fg(color))
        })
        .collect();
    let body = if lines.is_empty() { vec![Line::styled("nothing notable yet", p.dim())] } else { lines };
    Paragraph::new(body).block(Block::bordered().title(" events "))
}

fn lesson_text(s: &Snapshot, p: Palette) -> Paragraph<'static> {
    let mut lines = vec![Line::styled(s.title.clone(), p.bold())];
    lines.extend(s.lesson.split("\n\n").map(|para| Line::raw(para.split_whitespace().collect::<Vec<_>>().join(" "))));
    if !s.watch.is_empty() {
        lines.push(Line::styled("Watch:", p.bold()));
        lines.extend(s.watch.iter().map(|w| Line::raw(format!("• {w}"))));
    }
    Paragraph::new(lines).wrap(Wrap { trim: true }).block(Block::bordered().title(" lesson (l: all of it) "))
}
