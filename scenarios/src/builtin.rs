//! The built-in scenario library: TOML files under `scenarios/builtin/`, embedded in the
//! binary so `scalelab run mm1` works anywhere, and printable with `scalelab show`.

/// (name, file text) of every built-in scenario, in the order `scalelab list` shows them.
pub const BUILTIN: [(&str, &str); 43] = [
    ("mm1", include_str!("../builtin/mm1.toml")),
    ("mmc", include_str!("../builtin/mmc.toml")),
    ("pixelcraft-100", include_str!("../builtin/pixelcraft-100.toml")),
    ("pixelcraft-100-at-1m", include_str!("../builtin/pixelcraft-100-at-1m.toml")),
    ("pixelcraft-1m", include_str!("../builtin/pixelcraft-1m.toml")),
    ("scale-lab-100m", include_str!("../builtin/scale-lab-100m.toml")),
    ("stage-01", include_str!("../builtin/stage-01.toml")),
    ("stage-02", include_str!("../builtin/stage-02.toml")),
    ("stage-03", include_str!("../builtin/stage-03.toml")),
    ("stage-04", include_str!("../builtin/stage-04.toml")),
    ("stage-05", include_str!("../builtin/stage-05.toml")),
    ("stage-06", include_str!("../builtin/stage-06.toml")),
    ("stage-07", include_str!("../builtin/stage-07.toml")),
    ("stage-08", include_str!("../builtin/stage-08.toml")),
    ("stage-09", include_str!("../builtin/stage-09.toml")),
    ("stage-10", include_str!("../builtin/stage-10.toml")),
    ("stage-11", include_str!("../builtin/stage-11.toml")),
    ("stage-12", include_str!("../builtin/stage-12.toml")),
    ("lb-algorithms", include_str!("../builtin/lb-algorithms.toml")),
    ("thundering-herd", include_str!("../builtin/thundering-herd.toml")),
    ("retry-storm", include_str!("../builtin/retry-storm.toml")),
    ("retry-storm-budget", include_str!("../builtin/retry-storm-budget.toml")),
    ("tail-at-scale", include_str!("../builtin/tail-at-scale.toml")),
    ("tail-hedging", include_str!("../builtin/tail-hedging.toml")),
    ("deep-chain", include_str!("../builtin/deep-chain.toml")),
    ("deep-chain-deadline", include_str!("../builtin/deep-chain-deadline.toml")),
    ("read-your-writes", include_str!("../builtin/read-your-writes.toml")),
    ("hot-shard", include_str!("../builtin/hot-shard.toml")),
    ("reshard-mod-vs-consistent", include_str!("../builtin/reshard-mod-vs-consistent.toml")),
    ("queue-backlog-dlq", include_str!("../builtin/queue-backlog-dlq.toml")),
    ("sticky-vs-shared-sessions", include_str!("../builtin/sticky-vs-shared-sessions.toml")),
    ("cap-exercise", include_str!("../builtin/cap-exercise.toml")),
    ("cap-metadata-ap", include_str!("../builtin/cap-metadata-ap.toml")),
    ("cap-weak-quorum", include_str!("../builtin/cap-weak-quorum.toml")),
    ("failover-async", include_str!("../builtin/failover-async.toml")),
    ("failover-sync", include_str!("../builtin/failover-sync.toml")),
    ("slow-dependency", include_str!("../builtin/slow-dependency.toml")),
    ("slow-dependency-breaker", include_str!("../builtin/slow-dependency-breaker.toml")),
    ("gateway-rate-limit", include_str!("../builtin/gateway-rate-limit.toml")),
    ("lifo-vs-fifo", include_str!("../builtin/lifo-vs-fifo.toml")),
    ("gateway-shared-limiter", include_str!("../builtin/gateway-shared-limiter.toml")),
    ("gateway-shared-limiter-closed", include_str!("../builtin/gateway-shared-limiter-closed.toml")),
    ("pixelcraft-1m-limits", include_str!("../builtin/pixelcraft-1m-limits.toml")),
];

/// The scenario `scalelab run` uses when none is named: the question scalelab exists to
/// answer, what breaks when today's app meets a million users.
pub const DEFAULT_SCENARIO: &str = "pixelcraft-100-at-1m";

pub fn get(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}
