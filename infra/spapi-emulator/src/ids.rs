//! Unique ids (request ids, transaction ids, access tokens).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unique ids without a random-number crate: a per-process seed plus a counter, mixed with
/// splitmix64 (a bijection, so distinct counters give distinct values).
pub(crate) struct Ids {
    pub(crate) seed: u64,
    pub(crate) counter: AtomicU64,
}

impl Ids {
    pub(crate) fn new() -> Ids {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        let local = 0u8;
        let seed = nanos ^ (u64::from(std::process::id()) << 32) ^ (&local as *const u8 as u64);
        Ids { seed, counter: AtomicU64::new(0) }
    }

    pub(crate) fn next(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut z = self.seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// UUID-shaped (version 4 layout).
    pub(crate) fn uuid(&self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            ((b >> 48) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}
