//! scalelab: the command-line entry point.

mod batch;
mod chaos;
mod charts;
mod cli;
mod compare;
mod confidence;
mod diagram;
mod expectations;
mod figures;
mod merge;
mod over_seeds;
mod request_trace;
mod run;
mod shard;
mod signals;
mod svg;
mod sweep;
mod sweep_map;
mod text_report;
mod vary;

use clap::Parser;
use cli::{Cli, Command};
use scenarios::{Overrides, Scenario, builtin};
use std::process::ExitCode;

/// Exit status for bad input: a scenario that does not parse or validate, a missing file.
pub const EXIT_INPUT: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
/// Exit status when an expectation of the scenario fails (unless `--no-check`).
pub const EXIT_EXPECTATION: i32 = 3;
/// Exit status when `--check-determinism` finds two runs that differ.
pub const EXIT_DETERMINISM: i32 = 4;

/// Resolves and validates a scenario, printing any errors to stderr. On failure returns
/// the exit status to use.
pub fn load(name: &str, overrides: &Overrides) -> Result<Scenario, i32> {
    let scenario = scenarios::load(name, overrides).map_err(|e| {
        eprint!("{e}");
        EXIT_INPUT
    })?;
    for note in &scenario.notes {
        eprintln!("note: {note}");
    }
    Ok(scenario)
}

/// `load` for commands that load one scenario many times (`compare`, `sweep`): each note
/// is printed once, and none about expectations, which those commands do not check.
pub fn load_quietly(name: &str, overrides: &Overrides, seen: &mut Vec<String>) -> Result<Scenario, i32> {
    let scenario = scenarios::load(name, overrides).map_err(|e| {
        eprint!("{e}");
        EXIT_INPUT
    })?;
    for note in &scenario.notes {
        if !note.starts_with("expectation") && !seen.contains(note) {
            eprintln!("note: {note}");
            seen.push(note.clone());
        }
    }
    Ok(scenario)
}

/// The scenario `scalelab` alone opens in the TUI.
const TUI_DEFAULT: &str = "pixelcraft-1m";

/// Whether both ends are a terminal (else the TUI cannot run, and `scalelab` prints help).
fn terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

fn open_tui(args: &cli::TuiArgs) -> anyhow::Result<i32> {
    if !terminal() {
        eprintln!("error: the TUI needs a terminal; `scalelab run NAME` prints a report without one");
        return Ok(EXIT_USAGE);
    }
    // A scenario that does not load is reported here, with its location, before the
    // terminal switches to the full-screen UI.
    if let Some(name) = &args.scenario
        && let Err(code) = load(name, &Overrides::default())
    {
        return Ok(code);
    }
    let color = !args.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let save_dir = args.save_dir.clone().unwrap_or_else(|| ".".into());
    let stop = signals::Stop::install();
    let options = tui::Options {
        scenario: args.scenario.clone(),
        seed: args.seed,
        save_dir,
        color,
        record: args.record.clone(),
        stop: stop.flag(),
    };
    match tui::run(options)? {
        Some(signal) => {
            eprintln!("scalelab: stopped by {}; the terminal is restored", signals::name(signal));
            Ok(signals::exit_code(signal))
        }
        None => Ok(0),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        None if terminal() => open_tui(&cli::TuiArgs {
            scenario: Some(TUI_DEFAULT.into()),
            seed: None,
            save_dir: None,
            no_color: false,
            record: None,
        }),
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            Ok(0)
        }
        Some(Command::Tui(args)) => open_tui(args),
        Some(Command::Run(args)) => run::run(args),
        Some(Command::Compare(args)) => {
            signals::exit_on_signal();
            compare::compare(args)
        }
        Some(Command::Sweep(args)) => {
            signals::exit_on_signal();
            sweep::sweep(args)
        }
        Some(Command::Chaos(args)) => chaos::chaos(args),
        Some(Command::Diagram(args)) => diagram::diagram(args),
        Some(Command::Merge(args)) => merge::merge(&args.files, args.json, args.csv),
        Some(Command::Replay { file }) => chaos::seed_file::replay(file),
        Some(Command::List) => {
            let width = builtin::names().map(str::len).max().unwrap_or(0);
            for (name, _) in builtin::BUILTIN {
                let title = load(name, &Overrides::default()).map(|s| s.title).unwrap_or_default();
                println!("{name:<width$}  {title}");
            }
            Ok(0)
        }
        Some(Command::Show { name }) => match builtin::get(name) {
            Some(text) => {
                print!("{text}");
                Ok(0)
            }
            None => {
                let hint = scenarios::diagnostic::did_you_mean(name, builtin::names())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                eprintln!("error: no built-in scenario named `{name}`{hint} (`scalelab list` shows them)");
                Ok(EXIT_INPUT)
            }
        },
        Some(Command::Validate { file, set }) => {
            let overrides = Overrides { set: set.clone(), ..Overrides::default() };
            match load(file, &overrides) {
                Ok(scenario) => {
                    // Warnings do not fail validation: the scenario runs as written.
                    if !scenario.warnings.is_empty() {
                        let n = scenario.warnings.len();
                        eprint!("{}\n{n} warning{} in {file}\n", scenario.warnings_text, if n == 1 { "" } else { "s" });
                    }
                    println!("ok");
                    Ok(0)
                }
                Err(code) => Ok(code),
            }
        }
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_INPUT as u8)
        }
    }
}
