//! `--svg` writes a well-formed SVG whose lines carry the report's numbers and are drawn
//! where the chart's axes put them.

mod common;

fn numbers(s: &str) -> Vec<f64> {
    s.split([' ', ',', 'M', 'L']).filter(|t| !t.is_empty()).map(|t| t.parse().unwrap()).collect()
}

/// A drawn line: its series name and its (x, y) data.
type Drawn = (String, Vec<(f64, f64)>);

/// Each line of a chart: (series name, its (x, y) data), after checking that the path is
/// the data mapped through the chart's axes.
fn lines(chart: roxmltree::Node) -> Vec<Drawn> {
    let attr = |n: &str| chart.attribute(n).unwrap_or_else(|| panic!("chart has no {n}")).parse::<f64>().unwrap();
    let (x0, x1, y0, y1) = (attr("data-x0"), attr("data-x1"), attr("data-y0"), attr("data-y1"));
    let (left, top, w, h) = (attr("data-left"), attr("data-top"), attr("data-width"), attr("data-height"));
    chart
        .children()
        .filter(|n| n.attribute("class") == Some("line"))
        .map(|path| {
            let data: Vec<(f64, f64)> =
                numbers(path.attribute("data-points").unwrap()).chunks(2).map(|c| (c[0], c[1])).collect();
            let drawn: Vec<(f64, f64)> =
                numbers(path.attribute("d").unwrap()).chunks(2).map(|c| (c[0], c[1])).collect();
            assert_eq!(data.len(), drawn.len());
            for ((x, y), (px, py)) in data.iter().zip(&drawn) {
                assert!((left + (x - x0) / (x1 - x0) * w - px).abs() < 0.01, "x {x} drawn at {px}");
                assert!((top + (y1 - y) / (y1 - y0) * h - py).abs() < 0.01, "y {y} drawn at {py}");
                assert!((left..=left + w).contains(px) && (top..=top + h).contains(py), "inside the plot box");
            }
            (path.attribute("data-series").unwrap().to_string(), data)
        })
        .collect()
}

fn charts(text: &str) -> Vec<(String, Vec<Drawn>)> {
    let doc = roxmltree::Document::parse(text).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
    root.children()
        .filter(|n| n.attribute("class") == Some("chart"))
        .map(|c| (c.attribute("data-title").unwrap().to_string(), lines(c)))
        .collect()
}

#[test]
fn run_svg_draws_the_reports_series() {
    let path = common::scratch("run.svg");
    let json = common::ok(&[
        "run",
        "stage-04",
        "--duration",
        "3m",
        "--json",
        "--series",
        "--no-check",
        "--svg",
        path.to_str().unwrap(),
    ]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let series = report["series"].as_array().unwrap();
    assert_eq!(series.len(), 180);
    let charts = charts(&std::fs::read_to_string(&path).unwrap());
    let titles: Vec<&str> = charts.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Latency over simulated time",
            "Throughput: requests completed per second",
            "Errors: requests failed per second"
        ]
    );
    let latency = &charts[0].1;
    assert_eq!(latency.iter().map(|l| l.0.as_str()).collect::<Vec<_>>(), ["p50", "p95", "p99"]);
    for (line, key) in latency.iter().zip(["latency_p50_ms", "latency_p95_ms", "latency_p99_ms"]) {
        let want: Vec<(f64, f64)> =
            series.iter().filter_map(|p| Some((p["t_s"].as_f64()?, p[key].as_f64()?))).collect();
        assert_eq!(line.1, want, "{key}");
    }
    let completed: Vec<(f64, f64)> =
        series.iter().map(|p| (p["t_s"].as_f64().unwrap(), p["completed"].as_f64().unwrap())).collect();
    assert_eq!(charts[1].1[0].1, completed);
    let failed: f64 = charts[2].1[0].1.iter().map(|p| p.1).sum();
    assert_eq!(failed, series.iter().map(|p| p["failed"].as_f64().unwrap()).sum::<f64>());
    // The p99 over the run sits inside the range of the per-second p99s drawn.
    let p99s: Vec<f64> = latency[2].1.iter().map(|p| p.1).collect();
    let run_p99 = report["latency_ms"]["p99"].as_f64().unwrap();
    assert!(p99s.iter().any(|&p| p <= run_p99) && p99s.iter().any(|&p| p >= run_p99));
}

#[test]
fn sweep_svg_draws_the_curve_the_target_and_the_knee() {
    let path = common::scratch("sweep.svg");
    let json =
        common::ok(&["sweep", "stage-03", "--vary", "web_servers=2..6", "--json", "--svg", path.to_str().unwrap()]);
    let sweep: serde_json::Value = serde_json::from_str(&json).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let charts = charts(&text);
    let curve = &charts[0].1[0];
    assert_eq!(curve.0, "p99_ms");
    let want: Vec<(f64, f64)> = sweep["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["value"].as_str().unwrap().parse().unwrap(), p["metric"].as_f64().unwrap()))
        .collect();
    assert_eq!(curve.1, want);
    let doc = roxmltree::Document::parse(&text).unwrap();
    let mark = doc.descendants().find(|n| n.attribute("class") == Some("mark")).expect("the knee is marked");
    assert_eq!(mark.attribute("data-x"), Some("4"));
    assert_eq!(sweep["knee"], "4");
    let target = doc.descendants().find(|n| n.attribute("class") == Some("target")).expect("the target line");
    assert_eq!(target.attribute("data-value"), Some("250"));
}

#[test]
fn compare_svg_has_a_line_per_scenario() {
    let path = common::scratch("compare.svg");
    let json = common::ok(&[
        "compare",
        "stage-03",
        "--vary",
        "web_servers=3,5",
        "--duration",
        "2m",
        "--json",
        "--svg",
        path.to_str().unwrap(),
    ]);
    let cmp: serde_json::Value = serde_json::from_str(&json).unwrap();
    let charts = charts(&std::fs::read_to_string(&path).unwrap());
    let names: Vec<&str> = charts[1].1.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(names, ["web_servers=3", "web_servers=5"]);
    // Completions drawn per second add up to what each run completed.
    for (line, run) in charts[1].1.iter().zip(cmp["runs"].as_array().unwrap()) {
        let drawn: f64 = line.1.iter().map(|p| p.1).sum();
        assert_eq!(drawn, run["requests"]["completed"].as_f64().unwrap(), "{}", line.0);
    }
}

/// Where a chart's x scale draws a value.
fn x_scale(chart: roxmltree::Node) -> impl Fn(f64) -> f64 {
    let attr = |n: &str| chart.attribute(n).unwrap().parse::<f64>().unwrap();
    let (left, w, x0, x1) = (attr("data-left"), attr("data-width"), attr("data-x0"), attr("data-x1"));
    move |x| left + (x - x0) / (x1 - x0) * w
}

#[test]
fn run_svg_marks_crashes_partitions_and_heals_where_they_happen_with_units_on_the_axes() {
    // stage-04's own crash of db-1 at 5m, and a partition of web-1 from the databases
    // from 2m to 3m.
    let mut source = common::ok(&["show", "stage-04"]);
    source.push_str(
        "\n[[faults]]\nat = \"2m\"\npartition = [[\"web-1\"], [\"db-1\", \"db-2\", \"db-3\"]]\nfor = \"1m\"\n",
    );
    let scenario = common::scratch("faults.toml");
    std::fs::write(&scenario, source).unwrap();
    let path = common::scratch("faults.svg");
    let args = ["run", scenario.to_str().unwrap(), "--duration", "6m", "--no-check", "--svg", path.to_str().unwrap()];
    common::ok(&args);
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let charts: Vec<_> = doc.descendants().filter(|n| n.attribute("class") == Some("chart")).collect();
    assert_eq!(charts.len(), 3);
    let y_units = ["latency (ms)", "throughput (req/s)", "failures (req/s)"];
    for (chart, y_unit) in charts.iter().zip(y_units) {
        let title = chart.attribute("data-title").unwrap();
        let px = x_scale(*chart);
        let faults: Vec<_> = chart.children().filter(|n| n.attribute("class") == Some("fault")).collect();
        let labels: Vec<&str> = faults.iter().map(|n| n.attribute("data-label").unwrap()).collect();
        assert_eq!(labels, ["crash db-1", "partition", "heal"], "{title}");
        let num = |n: &roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
        let (crash, band, heal) = (&faults[0], &faults[1], &faults[2]);
        assert_eq!((crash.tag_name().name(), num(crash, "data-at")), ("line", 300.0), "{title}");
        assert!((num(crash, "x1") - px(300.0)).abs() < 0.01 && num(crash, "x1") == num(crash, "x2"), "{title}");
        assert_eq!((band.tag_name().name(), num(band, "data-from"), num(band, "data-to")), ("rect", 120.0, 180.0));
        assert!((num(band, "x") - px(120.0)).abs() < 0.01, "{title}: the band starts at 2m");
        assert!((num(band, "x") + num(band, "width") - px(180.0)).abs() < 0.02, "{title}: and ends at the heal");
        assert_eq!((heal.tag_name().name(), num(heal, "data-at")), ("line", 180.0), "{title}");
        assert!((num(heal, "x1") - px(180.0)).abs() < 0.01, "{title}");
        let texts: Vec<&str> = chart.children().filter_map(|n| n.text()).collect();
        for want in ["crash db-1", "partition", "heal", "fault while it lasts", "instant fault"] {
            assert!(texts.contains(&want), "{title}: no text {want:?} in {texts:?}");
        }
        let axes: Vec<&str> =
            chart.children().filter(|n| n.attribute("class") == Some("axis")).filter_map(|n| n.text()).collect();
        assert_eq!(axes, ["simulated time (s)", y_unit], "{title}");
    }
}
