//! Guided steps: a lesson told as the run goes. Each `[[steps]]` table says something at a
//! simulated time (`at = "10s"`) or once a condition on one instance's figures holds
//! (`when = "component.db-1.failovers >= 1"`), which a viewer checks once per whole
//! simulated second against `Simulation::component_reports()`.
//!
//! A condition reads one instance's report, never a whole run's: building one is cheap
//! enough to do every simulated second. Its figures are what that report holds at the
//! moment: counts since the run began (`crashes`, `failovers`, `queue_max`, `rejected`) and
//! time averages since the warm-up ended (`utilization`, `queue_mean`).

use crate::diagnostic::Diagnostic;
use crate::expect::{Check, Metric};
use crate::file::StepFile;
use crate::values::Values;
use sim_core::report::ComponentReport;
use sim_core::{Model, SimDuration, SimTime};

/// At most this many steps a scenario: a lesson, not a script.
pub const MAX_STEPS: usize = 32;
/// Characters in one step's text (a few sentences in a panel).
pub const MAX_STEP_TEXT: usize = 600;
/// Entries in one step's watch list.
pub const MAX_STEP_WATCH: usize = 8;

/// One guided step, as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub trigger: Trigger,
    /// What is happening now, what to look at, what to try and why it matters.
    pub text: String,
    /// What to look at on the screen: `["web-1 queue", "p99"]`.
    pub watch: Vec<String>,
    /// A TUI key worth pressing now (`f`, the fault menu; `d`, the detail view).
    pub key: Option<char>,
}

/// When a step is due.
#[derive(Clone, Debug, PartialEq)]
pub enum Trigger {
    /// From this simulated time on.
    At(SimTime),
    /// From the first check at which the condition holds.
    When(Condition),
}

/// `component.ID.KEY OP VALUE`, resolved to the instance's index.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// As written in the scenario.
    pub text: String,
    /// The instance's index in the model's components, and so in `component_reports()`.
    pub component: usize,
    /// A figure name of the vocabulary `sim_core::report::figures::names`.
    pub key: String,
    pub check: Check,
}

impl Condition {
    /// The figure's value in `reports` (one per instance, in model order); `None` when the
    /// report leaves it out (an instance that never crashed has no `crashes`).
    pub fn value(&self, reports: &[ComponentReport]) -> Option<f64> {
        let report = serde_json::to_value(reports.get(self.component)?).ok()?;
        report.get(&self.key)?.as_f64()
    }

    pub fn holds(&self, reports: &[ComponentReport]) -> bool {
        self.value(reports).is_some_and(|x| self.check.holds(x))
    }
}

impl Step {
    /// Whether the step is due at `now`, given the instances' reports at `now` (only a
    /// `when` step reads them).
    pub fn due(&self, now: SimTime, reports: &[ComponentReport]) -> bool {
        match &self.trigger {
            Trigger::At(at) => now >= *at,
            Trigger::When(c) => c.holds(reports),
        }
    }
}

/// Which steps have fired in one run, and when: a step fires once, at the first check it is
/// due, and stays fired. Stepping back forgets the steps fired after the new time.
#[derive(Clone, Debug)]
pub struct Guide {
    steps: Vec<Step>,
    fired: Vec<Option<SimTime>>,
}

impl Guide {
    pub fn new(steps: Vec<Step>) -> Guide {
        let fired = vec![None; steps.len()];
        Guide { steps, fired }
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Checks every step not yet fired at `now`; returns the indices of those that fire,
    /// in file order.
    pub fn observe(&mut self, now: SimTime, reports: &[ComponentReport]) -> Vec<usize> {
        let mut fired_now = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            if self.fired[i].is_none() && step.due(now, reports) {
                self.fired[i] = Some(now);
                fired_now.push(i);
            }
        }
        fired_now
    }

    /// When step `i` fired, if it has.
    pub fn fired_at(&self, i: usize) -> Option<SimTime> {
        self.fired.get(i).copied().flatten()
    }

    /// The step to show: the one fired last (the later in the file on a tie).
    pub fn current(&self) -> Option<usize> {
        (0..self.steps.len()).filter(|&i| self.fired[i].is_some()).max_by_key(|&i| (self.fired[i], i))
    }

    /// Back to `now`: steps fired after it have not fired yet.
    pub fn rewind(&mut self, now: SimTime) {
        for f in &mut self.fired {
            if f.is_some_and(|t| t > now) {
                *f = None;
            }
        }
    }
}

/// Lowers the `[[steps]]` tables against the model. A step a `--duration` or `--set`
/// override puts out of reach (after the end, on a removed instance) is left out with a note.
pub(crate) fn lower(
    files: &[StepFile],
    model: &Model,
    v: &Values,
    overridden: bool,
    notes: &mut Vec<String>,
) -> Result<Vec<Step>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    if files.len() > MAX_STEPS {
        let span = files[MAX_STEPS].text.span();
        let message = format!("{} steps, over the cap of {MAX_STEPS}", files.len());
        errors.push(Diagnostic::at(message, span).help("merge steps, or move the detail into the lesson"));
        return Err(errors);
    }
    let classes: Vec<String> = model.classes.iter().map(|c| c.name.clone()).collect();
    let components: Vec<crate::expect::Component> =
        model.components.iter().map(|c| (c.name.clone(), c.model.kind())).collect();
    let mut steps = Vec::new();
    for f in files {
        let trigger = match (&f.at, &f.when) {
            (Some(at), None) => match at_time(at, model.duration, v, overridden, notes) {
                Ok(Some(t)) => Trigger::At(t),
                Ok(None) => continue,
                Err(d) => {
                    errors.push(d);
                    continue;
                }
            },
            (None, Some(when)) => {
                if overridden
                    && let Some(id) = crate::expect::component_of(when.get_ref())
                    && !components.iter().any(|(c, _)| c == id)
                {
                    notes.push(format!("step `when = {:?}` skipped: this run has no `{id}`", when.get_ref().trim()));
                    continue;
                }
                match condition(when, v, &classes, &components) {
                    Ok(c) => Trigger::When(c),
                    Err(d) => {
                        errors.push(d);
                        continue;
                    }
                }
            }
            (Some(_), Some(when)) => {
                errors.push(
                    Diagnostic::at("this step has both `at` and `when`", when.span())
                        .help("keep one: a step fires at a time or when a condition holds"),
                );
                continue;
            }
            (None, None) => {
                errors.push(
                    Diagnostic::at("this step says when to show it with neither `at` nor `when`", f.text.span())
                        .help("add at = \"10s\" or when = \"component.ID.KEY > VALUE\""),
                );
                continue;
            }
        };
        match check_words(f) {
            Ok(key) => steps.push(Step {
                trigger,
                text: f.text.get_ref().trim().to_string(),
                watch: f.watch.iter().map(|w| w.get_ref().clone()).collect(),
                key,
            }),
            Err(d) => errors.push(d),
        }
    }
    if errors.is_empty() { Ok(steps) } else { Err(errors) }
}

/// `at`: a time within the run.
fn at_time(
    at: &toml::Spanned<toml::Value>,
    duration: SimDuration,
    v: &Values,
    overridden: bool,
    notes: &mut Vec<String>,
) -> Result<Option<SimTime>, Diagnostic> {
    let t = v.duration(at, "at")?;
    if t < duration {
        return Ok(Some(SimTime(t.as_nanos())));
    }
    if overridden {
        notes.push(format!("a step at {t} is after the run's end ({duration}): it is not shown"));
        return Ok(None);
    }
    Err(Diagnostic::at(
        format!("this step at {t} is not before the run's end ({duration}): it would never show"),
        at.span(),
    )
    .help("move it earlier, or lengthen the run"))
}

/// Figures the report builder adds at the end, absent from a running instance's report.
const NOT_WHILE_RUNNING: [&str; 2] = ["crashes", "refused_while_down"];

/// `when`: an expectation's grammar, restricted to one instance's figures.
fn condition(
    when: &toml::Spanned<String>,
    v: &Values,
    classes: &[String],
    components: &[crate::expect::Component],
) -> Result<Condition, Diagnostic> {
    let at = v.content_start(&when.span());
    let e = crate::expect::parse(when.get_ref(), at, classes, components)?;
    let Metric::Component { id, key } = e.metric else {
        let name_end = at + when.get_ref().find(|c: char| " <>=~".contains(c)).unwrap_or(when.get_ref().len());
        return Err(Diagnostic::at("a step's condition reads one instance's figures", at..name_end).help(
            "write component.ID.KEY OP VALUE, such as component.web-1.utilization > 0.9 (whole-run figures are known only at the end)",
        ));
    };
    if NOT_WHILE_RUNNING.contains(&key.as_str()) {
        let key_start = at + when.get_ref().find(&format!(".{key}")).map_or(0, |i| i + 1);
        return Err(Diagnostic::at(
            format!("`{key}` is counted only in the final report"),
            key_start..key_start + key.len(),
        )
        .help("put the step at the fault's time instead: at = \"TIME\""));
    }
    let component = components.iter().position(|(c, _)| *c == id).expect("parse resolved the instance");
    Ok(Condition { text: e.text, component, key, check: e.check })
}

/// A step's text, watch list and key: within the caps, no control characters (the terminal
/// would act on them), a key that is one visible character.
fn check_words(f: &StepFile) -> Result<Option<char>, Diagnostic> {
    let text = f.text.get_ref();
    if text.trim().is_empty() {
        return Err(Diagnostic::at("this step's text is empty", f.text.span()).help("say what the student sees now"));
    }
    let chars = text.chars().count();
    if chars > MAX_STEP_TEXT {
        return Err(Diagnostic::at(
            format!("this step's text is {chars} characters, over the cap of {MAX_STEP_TEXT}"),
            f.text.span(),
        )
        .help("shorten it, or split it into two steps"));
    }
    let control = |s: &str, lines: bool| s.chars().find(|&c| c.is_control() && !(lines && c == '\n'));
    let found = |c: char, span| {
        Diagnostic::at(format!("this holds the control character U+{:04X}", c as u32), span)
            .help("remove it: the terminal would act on it (an escape sequence can clear the screen)")
    };
    if let Some(c) = control(text, true) {
        return Err(found(c, f.text.span()));
    }
    if f.watch.len() > MAX_STEP_WATCH {
        let span = f.watch[MAX_STEP_WATCH].span();
        return Err(Diagnostic::at(format!("{} watch entries, over the cap of {MAX_STEP_WATCH}", f.watch.len()), span)
            .help("name the few figures that matter at this step"));
    }
    for w in &f.watch {
        if let Some(c) = control(w.get_ref(), false) {
            return Err(found(c, w.span()));
        }
    }
    let Some(key) = &f.key else { return Ok(None) };
    let mut chars = key.get_ref().chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if !c.is_control() && !c.is_whitespace() => Ok(Some(c)),
        _ => Err(Diagnostic::at(format!("`{}` is not one key", key.get_ref()), key.span())
            .help("write one character the TUI's keys know, such as \"f\" (the fault menu) or \"o\" (open another scenario); ? lists them")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::report::figures::{ClusterFigures, DatabaseFigures, Figures};

    /// A database's report; `failovers` only on a cluster's first instance, as the engine reports it.
    fn db(failovers: Option<u64>) -> ComponentReport {
        let cluster = failovers.map(|failovers| ClusterFigures { failovers, ..Default::default() });
        let mut r = ComponentReport::new(Figures::Database(DatabaseFigures { cluster, ..Default::default() }));
        r.utilization = Some(0.5);
        r
    }

    fn when(component: usize, key: &str, check: Check) -> Step {
        let c = Condition { text: String::new(), component, key: key.into(), check };
        Step { trigger: Trigger::When(c), text: "t".into(), watch: vec![], key: None }
    }

    fn at(s: u64) -> Step {
        Step { trigger: Trigger::At(SimTime(s * 1_000_000_000)), text: "t".into(), watch: vec![], key: None }
    }

    #[test]
    fn a_condition_reads_its_instance_figure_and_a_missing_one_is_false() {
        let reports = [db(None), db(Some(1))];
        let failed_over = when(1, "failovers", Check::GreaterEq(1.0));
        assert!(failed_over.due(SimTime(0), &reports));
        assert!(!when(0, "failovers", Check::GreaterEq(1.0)).due(SimTime(0), &reports));
        // Absent is not zero: `failovers < 1` does not hold on a report without the figure.
        assert!(!when(0, "failovers", Check::Less(1.0)).due(SimTime(0), &reports));
        assert!(when(0, "utilization", Check::Greater(0.4)).due(SimTime(0), &reports));
        assert!(!when(0, "utilization", Check::Greater(0.6)).due(SimTime(0), &reports));
        // An index past the reports (a viewer with no reports yet) is never due.
        assert!(!failed_over.due(SimTime(0), &[]));
    }

    /// A one-server scenario with `steps` appended, lowered.
    fn lowered(steps: &str) -> Result<Vec<Step>, String> {
        let text = format!(
            "name = \"s\"\ntitle = \"t\"\n[run]\nduration = \"10s\"\n[workload]\narrival = \"poisson\"\nrate = 10\n\
             [[components]]\nid = \"web\"\nkind = \"server\"\nservice = \"exp(20ms)\"\n\
             [[links]]\nbetween = [\"clients\", \"web\"]\n[[classes]]\nname = \"job\"\npath = [\"web\"]\n{steps}"
        );
        let source = crate::Source { origin: "s.toml".into(), text };
        crate::parse(&source, &crate::Overrides::default())
            .map(|s| s.steps)
            .map_err(|d| d.items.iter().map(|i| i.message.clone()).collect::<Vec<_>>().join("; "))
    }

    #[test]
    fn steps_lower_in_file_order_and_mistakes_are_refused() {
        let steps = lowered(
            "[[steps]]\nwhen = \"component.web.queue_max >= 3\"\ntext = \"  Queued.  \"\nkey = \"f\"\n\
             [[steps]]\nat = \"2500ms\"\ntext = \"Two and a half.\"\nwatch = [\"web queue\"]\n",
        )
        .unwrap();
        let Trigger::When(c) = &steps[0].trigger else { panic!("{steps:?}") };
        // Instance 0 is the population, 1 the server.
        assert_eq!((c.component, c.key.as_str(), c.check), (1, "queue_max", Check::GreaterEq(3.0)));
        assert_eq!((steps[0].text.as_str(), steps[0].key), ("Queued.", Some('f')));
        assert_eq!(steps[1].trigger, Trigger::At(SimTime(2_500_000_000)));
        assert_eq!(steps[1].watch, vec!["web queue".to_string()]);
        let err = |steps: &str| lowered(steps).unwrap_err();
        assert!(err("[[steps]]\ntext = \"When?\"\n").contains("neither `at` nor `when`"));
        assert!(err("[[steps]]\nat = \"1s\"\ntext = \"   \"\n").contains("text is empty"));
        assert!(err("[[steps]]\nat = \"1s\"\ntext = \"a\\u001b[2J\"\n").contains("control character U+001B"));
        let long = format!("[[steps]]\nat = \"1s\"\ntext = \"{}\"\n", "x".repeat(MAX_STEP_TEXT + 1));
        assert!(err(&long).contains("601 characters, over the cap of 600"));
        let many = "[[steps]]\nat = \"1s\"\ntext = \"a\"\n".repeat(MAX_STEPS + 1);
        assert!(err(&many).contains("33 steps, over the cap of 32"));
        assert!(
            err("[[steps]]\nwhen = \"component.web.crashes > 0\"\ntext = \"a\"\n").contains("only in the final report")
        );
        assert!(err("[[steps]]\nwhen = \"class.job.p99_ms > 5\"\ntext = \"a\"\n").contains("one instance's figures"));
        assert!(err("[[steps]]\nat = \"1s\"\ntext = \"a\"\nsay = \"b\"\n").contains("unknown field `say`"));
    }

    #[test]
    fn a_guide_fires_each_step_once_in_order_and_rewinds() {
        let mut g = Guide::new(vec![at(10), when(0, "failovers", Check::GreaterEq(1.0)), at(5)]);
        let s = |n: u64| SimTime(n * 1_000_000_000);
        assert_eq!(g.observe(s(4), &[db(None)]), Vec::<usize>::new());
        assert_eq!(g.current(), None);
        assert_eq!(g.observe(s(5), &[db(None)]), vec![2]);
        assert_eq!(g.observe(s(11), &[db(Some(1))]), vec![0, 1]);
        assert_eq!(g.current(), Some(1));
        // Fired stays fired, even when the condition stops holding.
        assert_eq!(g.observe(s(12), &[db(None)]), Vec::<usize>::new());
        assert_eq!(g.fired_at(1), Some(s(11)));
        g.rewind(s(8));
        assert_eq!((g.fired_at(0), g.fired_at(1), g.fired_at(2)), (None, None, Some(s(5))));
        assert_eq!(g.current(), Some(2));
        assert_eq!(g.observe(s(9), &[db(Some(1))]), vec![1]);
    }
}
