//! The WebSocket server's and its pub/sub adapter's specs.

use crate::kernel::distribution::Delay;
use crate::kernel::ids::ServiceId;

#[derive(Clone, Debug)]
pub struct WebSocketSpec {
    pub max_connections: u32,
    /// Cursor updates per connected user per second.
    pub update_rate: f64,
    pub rooms: u32,
    /// The pub/sub adapter service.
    pub adapter: ServiceId,
}

#[derive(Clone, Debug)]
pub struct PubSubSpec {
    /// The service whose instances receive every publication.
    pub subscribers: ServiceId,
    pub latency: Delay,
}
