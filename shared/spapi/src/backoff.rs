//! The one way of backing off in the workspace: exponential delays with jitter, from the
//! `backon` crate (its delay iterator; the retry loops stay ours, because what to do after each
//! attempt depends on the outcome's [`Class`](crate::Class)).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// Delays before retry 1, 2, …, at most `retries` of them: retry n waits `base·2^(n−1)`
/// (capped at `max`) plus a random jitter of up to that much again, so in
/// `[base·2^(n−1), 2·base·2^(n−1))` and never more than `2·max`. `None` once the retries are
/// used up.
pub fn exponential(base: Duration, max: Duration, retries: usize) -> impl Iterator<Item = Duration> + Send {
    ExponentialBuilder::new().with_min_delay(base).with_max_delay(max.max(base)).with_max_times(retries).with_jitter().build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_up_to_the_cap_then_stops() {
        let ms = Duration::from_millis;
        for _ in 0..200 {
            let delays: Vec<Duration> = exponential(ms(100), ms(800), 6).collect();
            assert_eq!(delays.len(), 6);
            for (i, d) in delays.iter().enumerate() {
                let floor = ms(100 * (1 << i)).min(ms(800));
                assert!(*d >= floor && *d < floor * 2, "retry {}: {d:?}", i + 1);
            }
        }
        assert_eq!(exponential(ms(1), ms(1), 0).count(), 0);
        // Jittered: two runs differ.
        let a: Vec<Duration> = exponential(ms(100), ms(800), 6).collect();
        let b: Vec<Duration> = exponential(ms(100), ms(800), 6).collect();
        let c: Vec<Duration> = exponential(ms(100), ms(800), 6).collect();
        assert!(a != b || b != c);
    }
}
