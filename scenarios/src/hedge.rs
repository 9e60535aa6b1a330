//! A class's `[classes.hops.SERVICE] hedge = { ... }` tables lowered into `HedgeSpec`s: the
//! callee resolved and checked against the class's flow, `after` as a duration or a
//! percentile of the measured latency, at most 3 copies.

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::file::ClassFile;
use crate::values::Values;
use sim_core::SimDuration;
use sim_core::kernel::ids::ServiceId;
use sim_core::model::FlowNode;
use sim_core::model::hedge::{HedgeAfter, HedgeSpec};
use toml::Value;

/// Copies per call: each one more is another call's worth of load on the callee.
pub const MAX_COPIES: u64 = 3;
/// The longest fixed wait: a copy held longer than any sane timeout hedges nothing.
const MAX_AFTER: SimDuration = SimDuration::from_secs(60);
const PERCENTILES: [(&str, u8); 4] = [("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)];

pub fn lower(c: &ClassFile, flow: &[FlowNode], names: &[String], v: &Values) -> Result<Vec<HedgeSpec>, Diagnostic> {
    let mut out = Vec::new();
    for (service, hop) in &c.hops {
        let class = c.name.get_ref();
        let Some(si) = names.iter().position(|n| n == service.get_ref()) else {
            let d = Diagnostic::at(format!("unknown component `{}`", service.get_ref()), service.span());
            return Err(match did_you_mean(service.get_ref(), names.iter().map(String::as_str)) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!("declared components: {}", names.join(", "))),
            });
        };
        let id = ServiceId(si as u32);
        if !flow.iter().skip(1).any(|n| n.service == id) {
            let why = if flow[0].service == id {
                "is where its requests enter, not a call between services"
            } else {
                "is not in its flow"
            };
            return Err(Diagnostic::at(
                format!("class `{class}` has a hop to `{}`, which {why}", service.get_ref()),
                service.span(),
            )
            .help("name a service this class's path or calls reach from another service"));
        }
        let Some(h) = &hop.get_ref().hedge else { continue };
        let f = h.get_ref();
        let after = match f.after.get_ref() {
            Value::String(s) if s.starts_with('p') && !s.contains(|c: char| c.is_ascii_alphabetic() && c != 'p') => {
                match PERCENTILES.iter().find(|(n, _)| n == s) {
                    Some((_, p)) => HedgeAfter::Percentile(*p),
                    None => {
                        return Err(Diagnostic::at(
                            format!("hedge after `{s}` is not a percentile it knows"),
                            f.after.span(),
                        )
                        .help("use p50, p90, p95 or p99, or a wait such as \"20ms\""));
                    }
                }
            }
            _ => {
                let d = v.duration(&f.after, "hedge after")?;
                if d == SimDuration::ZERO || d > MAX_AFTER {
                    return Err(Diagnostic::at(
                        format!("hedge after is {d}, outside 1ns to {MAX_AFTER}"),
                        f.after.span(),
                    )
                    .help(
                        "a copy goes out after a wait between the hop's typical and slowest answers, such as \"20ms\"",
                    ));
                }
                HedgeAfter::Fixed(d)
            }
        };
        let max = match &f.max {
            Some(m) => v.count(m, "hedge max", 1, MAX_COPIES)? as u8,
            None => 1,
        };
        out.push(HedgeSpec { service: id, after, max });
    }
    Ok(out)
}
