//! A class's `deadline` and its `[classes.hops.SERVICE] timeout`s and `retry` tables (the
//! class `retry`'s keys and limits, `scenarios::retry`) lowered into `HopSpec`s
//! (the hop's service is resolved and checked against the flow by `scenarios::hedge`,
//! which runs first).

use crate::diagnostic::Diagnostic;
use crate::file::ClassFile;
use crate::values::Values;
use sim_core::SimDuration;
use sim_core::kernel::ids::ServiceId;
use sim_core::model::hop::HopSpec;

/// The longest hop timeout: a waiting call holds its request, so a longer one lets a
/// slow callee pile up requests for the whole run.
const MAX_TIMEOUT: SimDuration = SimDuration::from_secs(3600);

pub fn lower(c: &ClassFile, names: &[String], v: &Values) -> Result<Vec<HopSpec>, Diagnostic> {
    let mut out = Vec::new();
    for (service, hop) in &c.hops {
        let h = hop.get_ref();
        if h.timeout.is_none() && h.retry.is_none() {
            continue;
        }
        let Some(si) = names.iter().position(|n| n == service.get_ref()) else { continue };
        let timeout = match &h.timeout {
            None => None,
            Some(t) => {
                let timeout = v.duration(t, "hop timeout")?;
                if timeout == SimDuration::ZERO || timeout > MAX_TIMEOUT {
                    return Err(Diagnostic::at(format!("hop timeout is {timeout}, outside 1ns to {MAX_TIMEOUT}"), t.span())
                        .help(
                            "a hop's calls give up after a wait a little over the callee's slowest answers, such as \"100ms\"",
                        ));
                }
                Some(timeout)
            }
        };
        let retry = h.retry.as_ref().map(|r| crate::retry::lower(r, v)).transpose()?;
        out.push(HopSpec { service: ServiceId(si as u32), timeout, retry });
    }
    Ok(out)
}

/// `deadline = "propagate"` (a call waits at most what its caller has left) or `"none"`.
pub fn propagates(c: &ClassFile) -> Result<bool, Diagnostic> {
    let Some(d) = &c.deadline else { return Ok(false) };
    match d.get_ref().as_str() {
        "propagate" => Ok(true),
        "none" => Ok(false),
        other => Err(Diagnostic::at(format!("unknown deadline `{other}`"), d.span())
            .help("deadline is \"propagate\" (a call waits at most what its caller has left) or \"none\"")),
    }
}
