//! scalelab: the command-line entry point.

mod chaos;
mod cli;
mod expectations;
mod run;
mod text_report;

use clap::Parser;
use cli::{Cli, Command};
use scenarios::{Overrides, Scenario, builtin};
use std::process::ExitCode;

/// Exit status for bad input: a scenario that does not parse or validate, a missing file.
pub const EXIT_INPUT: i32 = 1;
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            Ok(0)
        }
        Some(Command::Run(args)) => run::run(args),
        Some(Command::Chaos(args)) => chaos::chaos(args),
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
                Ok(_) => {
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
