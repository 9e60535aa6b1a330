//! Object storage (S3-like): durable, effectively unbounded in capacity and concurrency
//! (every request is served at once, with no queue), with latency = a first-byte time
//! (`get_latency`, `put_latency`) plus the object's size over `bandwidth`. It counts what
//! the cost model bills: bytes stored, bytes transferred out, requests. A crash of the
//! simulated instance loses nothing stored (the data is replicated inside the service).

use super::token_slab::TokenSlab;
use crate::ctx::Ctx;
use crate::event::Input;
use crate::event::{Op, Outcome};
use crate::kernel::ids::RequestId;
use crate::kernel::keymap::KeyMap;
use crate::kernel::time::SimDuration;
use crate::model::object_store::ObjectStoreSpec;
use crate::report::ComponentReport;
use crate::report::figures::{Figures, ObjectStoreFigures};

#[derive(Clone)]
pub struct ObjectStore {
    spec: ObjectStoreSpec,
    transfer: SimDuration,
    serving: TokenSlab<RequestId>,
    /// Keys stored (the value is unused: presence is what counts).
    objects: KeyMap<u8>,
    gets: u64,
    puts: u64,
    bytes_out: u64,
    bytes_in: u64,
}

impl ObjectStore {
    pub fn new(spec: &ObjectStoreSpec) -> ObjectStore {
        ObjectStore {
            transfer: SimDuration::from_secs_f64(spec.object_size as f64 / spec.bandwidth),
            spec: spec.clone(),
            serving: TokenSlab::default(),
            objects: KeyMap::new(0),
            gets: 0,
            puts: 0,
            bytes_out: 0,
            bytes_in: 0,
        }
    }

    pub fn on_input(&mut self, input: Input, ctx: &mut Ctx) {
        match input {
            Input::Request(req) => {
                let r = *ctx.request(req);
                let first_byte = if r.op == Op::Write {
                    self.puts += 1;
                    self.bytes_in += self.spec.object_size;
                    self.objects.insert(r.key, 1);
                    ctx.draw(&self.spec.put_latency)
                } else {
                    self.gets += 1;
                    self.bytes_out += self.spec.object_size;
                    ctx.draw(&self.spec.get_latency)
                };
                let token = self.serving.insert(req);
                ctx.set_timer(first_byte + self.transfer, token);
            }
            Input::Timer(token) => {
                let req = self.serving.take(token).expect("a transfer timer has its request");
                ctx.respond(req, Outcome::Ok);
            }
            Input::ChildDone(result) => ctx.resume(&result),
            Input::Start
            | Input::Restart
            | Input::Pong { .. }
            | Input::Message { .. }
            | Input::Slow(_)
            | Input::Drain
            | Input::Scale(_)
            | Input::Rate(_)
            | Input::Capacity(_) => {}
        }
    }

    pub fn on_crash(&mut self) {
        self.serving.clear();
    }

    pub fn report(&self) -> ComponentReport {
        ComponentReport::new(Figures::ObjectStore(ObjectStoreFigures {
            gets: self.gets,
            puts: self.puts,
            objects: self.objects.len() as u64,
            bytes_stored: self.spec.stored_before + self.objects.len() as u64 * self.spec.object_size,
            bytes_transferred_out: self.bytes_out,
            bytes_transferred_in: self.bytes_in,
        }))
    }
}
