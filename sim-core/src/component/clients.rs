//! Clients: the workload. Open loop (Poisson arrivals, independent of how the system
//! copes, as real users on the internet behave) or closed loop (a fixed population that
//! waits for each answer and thinks before the next request, as a load test does).

use super::EventKind;
use crate::distribution::Delay;
use crate::engine::Ctx;
use crate::ids::ClassId;
use crate::model::{Arrival, ClientsSpec};
use crate::report::ComponentReport;
use crate::time::SimDuration;
use rand::RngExt;

pub struct Clients {
    arrival: Arrival,
    interarrival: Delay,
    /// Cumulative class weights, for picking a class per request.
    classes: Vec<(ClassId, f64)>,
    issued: u64,
}

impl Clients {
    pub fn new(spec: &ClientsSpec) -> Clients {
        let mut total = 0.0;
        let classes = spec
            .class_weights
            .iter()
            .map(|&(c, w)| {
                total += w;
                (c, total)
            })
            .collect();
        let interarrival = match spec.arrival {
            Arrival::Poisson { rate_per_sec } => Delay::exponential(SimDuration::from_secs_f64(1.0 / rate_per_sec)),
            Arrival::Closed { .. } => Delay::constant(SimDuration::ZERO),
        };
        Clients { arrival: spec.arrival.clone(), interarrival, classes, issued: 0 }
    }

    pub fn on_event(&mut self, kind: EventKind, ctx: &mut Ctx) {
        match kind {
            EventKind::Start => match &self.arrival {
                Arrival::Poisson { .. } => {
                    let d = ctx.draw(&self.interarrival);
                    ctx.set_timer(d, 0)
                }
                Arrival::Closed { users, think } => {
                    // Each user starts after one think time, so they do not all fire at t=0.
                    for user in 0..*users {
                        let d = ctx.draw(think);
                        ctx.set_timer(d, user);
                    }
                }
            },
            EventKind::Timer(user) => {
                if let Arrival::Poisson { .. } = self.arrival {
                    {
                        let d = ctx.draw(&self.interarrival);
                        ctx.set_timer(d, 0)
                    };
                }
                let class = self.pick_class(ctx);
                self.issued += 1;
                if !ctx.issue(class, user) {
                    self.after_answer(user, ctx);
                }
            }
            EventKind::Response(req) => {
                let r = ctx.finish(req);
                self.after_answer(r.user, ctx);
            }
            EventKind::Request(_) => unreachable!("clients are never on a request's path"),
        }
    }

    /// A closed-loop user thinks before its next request.
    fn after_answer(&mut self, user: u32, ctx: &mut Ctx) {
        if let Arrival::Closed { think, .. } = &self.arrival {
            let d = ctx.draw(think);
            ctx.set_timer(d, user);
        }
    }

    #[inline]
    fn pick_class(&self, ctx: &mut Ctx) -> ClassId {
        if self.classes.len() == 1 {
            return self.classes[0].0;
        }
        let total = self.classes.last().expect("at least one class").1;
        let u = ctx.rng.random::<f64>() * total;
        self.classes.iter().find(|(_, cum)| u < *cum).unwrap_or(&self.classes[self.classes.len() - 1]).0
    }

    pub fn report(&self) -> ComponentReport {
        let mut r = ComponentReport::new("clients");
        r.extra.insert("issued", self.issued as f64);
        r
    }
}
