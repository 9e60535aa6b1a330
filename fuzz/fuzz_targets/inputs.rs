//! One fuzz target for everything a user hands scalelab: the first byte picks what the
//! rest is. 0: a scenario file, parsed and, when valid, run for a few thousand events;
//! 1: a seed file; 2: `--set` lines (`NAME=VALUE`, one a line) over the built-in picked
//! by the second byte. Any panic, abort, hang or memory blow-up is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenarios::{Overrides, Source, builtin};

/// Events a valid scenario runs for: enough to reach its components, cheap per input.
const EVENTS: u64 = 5_000;

fn run(source: &Source, overrides: &Overrides) {
    if let Ok(mut s) = scenarios::parse(source, overrides) {
        s.model.limits.events_max = EVENTS;
        let mut sim = sim_core::Simulation::new(&s.model, 1);
        sim.run();
        let _ = sim.report(false);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 3 {
        0 => {
            let Ok(text) = std::str::from_utf8(rest) else { return };
            run(&Source { origin: "fuzz.toml".into(), text: text.into() }, &Overrides::default());
        }
        1 => {
            // Hashed here, so that mutations reach the TOML and the schedule behind the
            // hash check; a file that parses is replayed as `scalelab replay` would.
            let Ok(body) = std::str::from_utf8(rest) else { return };
            let text = format!("file_hash = \"{}\"\n{body}", scenarios::seed_file::fnv(body));
            if let Ok(file) = scenarios::seed_file::SeedFile::parse("fuzz-seed.toml", &text) {
                let faults = file.faults.iter().map(|f| f.toml.as_str());
                let text = scenarios::seed_file::with_faults(&file.scenario_text, faults);
                run(&Source { origin: "fuzz-seed.toml".into(), text }, &Overrides::default());
            }
        }
        _ => {
            let Some((&pick, rest)) = rest.split_first() else { return };
            let Ok(text) = std::str::from_utf8(rest) else { return };
            let (name, base) = builtin::BUILTIN[usize::from(pick) % builtin::BUILTIN.len()];
            let set = text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string()));
            let overrides = Overrides { set: set.collect(), ..Overrides::default() };
            run(&Source { origin: format!("builtin:{name}"), text: base.into() }, &overrides);
        }
    }
});
