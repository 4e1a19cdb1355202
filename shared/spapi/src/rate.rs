//! Rate limiting shared by every caller (all Lambda instances, all worker processes): the
//! generic cell rate algorithm (GCRA), a token bucket kept as one number, the "theoretical
//! arrival time" (TAT). A caller *reserves* a slot: it advances the shared TAT by one emission
//! interval with a conditional write (compare-and-set, see the adapters) and then waits until
//! its slot. Pure arithmetic here; time is an argument (milliseconds since the epoch).

use serde::{Deserialize, Serialize};

/// A usage plan: `rate` requests per second, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub rate: f64,
    pub burst: u32,
}

impl Plan {
    /// submitInvoices: 10 requests/s, burst 10 (vendorInvoices.json usage plan).
    pub const SUBMIT_INVOICES: Plan = Plan { rate: 10.0, burst: 10 };
    /// getTransaction: 10 requests/s, burst 20 (vendorTransactionStatus.json usage plan).
    pub const GET_TRANSACTION: Plan = Plan { rate: 10.0, burst: 20 };
    /// Amazon Business placeOrder and orderDetails: 0.5 requests/s, burst 10 each
    /// (Ordering_API.json usage plans), per application and connected account.
    pub const PLACE_ORDER: Plan = Plan { rate: 0.5, burst: 10 };
    /// Amazon Business Reconciliation API (getTransactions, getInvoiceDetailsByOrderLineItems,
    /// getBatchInvoicePaymentDetails): 2 requests/s, burst 10 each (every operation's
    /// description in Reconciliation_API.json).
    pub const RECONCILIATION: Plan = Plan { rate: 2.0, burst: 10 };
    /// Amazon Business Reports createReport: 0.0167 requests/s (one a minute), burst 15
    /// (Amazon Business's reference; the Document API model states none).
    pub const CREATE_REPORT: Plan = Plan { rate: 0.0167, burst: 15 };
    /// Amazon Business Reports getReportDocument: 0.0167 requests/s, burst 15 (same reference).
    pub const GET_REPORT_DOCUMENT: Plan = Plan { rate: 0.0167, burst: 15 };
    /// Amazon Business Reports getReport: not stated for Amazon Business; SP-API Reports'
    /// 2 requests/s, burst 15 (what the emulator assumes too).
    pub const GET_REPORT: Plan = Plan { rate: 2.0, burst: 15 };

    /// The plan a client should pace itself at so that clock skew between instances and
    /// network jitter never push it over Amazon's limit: `margin` (e.g. 0.03) slower, and a
    /// burst two requests smaller (at least 1).
    pub fn with_margin(&self, margin: f64) -> Plan {
        Plan { rate: self.rate / (1.0 + margin.max(0.0)), burst: self.burst.saturating_sub(2).max(1) }
    }

    /// Emission interval T in microseconds.
    pub fn interval_us(&self) -> i64 {
        (1_000_000.0 / self.rate.max(0.001)).round() as i64
    }

    /// Burst tolerance τ = (burst − 1) · T in microseconds.
    pub fn tolerance_us(&self) -> i64 {
        self.interval_us() * (self.burst.max(1) as i64 - 1)
    }
}

/// The result of reserving one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// The TAT to store (the compare-and-set writes it only if the stored TAT is still `seen`).
    pub new_tat_us: i64,
    /// When the request may be sent (≥ now).
    pub send_at_us: i64,
}

/// Reserves the next slot given the stored TAT (`None` when never used) and the time now.
pub fn reserve(plan: &Plan, stored_tat_us: Option<i64>, now_us: i64) -> Reservation {
    let tat = stored_tat_us.unwrap_or(now_us).max(now_us);
    Reservation { new_tat_us: tat + plan.interval_us(), send_at_us: next_slot(plan, stored_tat_us, now_us) }
}

/// When a request reserved now could be sent (≥ now), without reserving: the look a caller
/// takes before deciding to wait for a slow operation's slot or to leave it for later. The same
/// arithmetic as [`reserve`]'s `send_at_us`.
pub fn next_slot(plan: &Plan, stored_tat_us: Option<i64>, now_us: i64) -> i64 {
    let tat = stored_tat_us.unwrap_or(now_us).max(now_us);
    (tat - plan.tolerance_us()).max(now_us)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Simulates many callers reserving at given times and returns the send times.
    fn run(plan: &Plan, arrivals: &[i64]) -> Vec<i64> {
        let mut tat = None;
        arrivals
            .iter()
            .map(|&t| {
                let r = reserve(plan, tat, t);
                tat = Some(r.new_tat_us);
                r.send_at_us
            })
            .collect()
    }

    /// Max requests sent in any window of `window_us` (inclusive start, exclusive end).
    fn max_in_window(sends: &[i64], window_us: i64) -> usize {
        let mut s = sends.to_vec();
        s.sort();
        (0..s.len()).map(|i| s[i..].iter().take_while(|&&x| x < s[i] + window_us).count()).max().unwrap_or(0)
    }

    #[test]
    fn burst_then_steady_rate() {
        let p = Plan::SUBMIT_INVOICES;
        let sends = run(&p, &[0; 30]);
        assert!(sends[..10].iter().all(|&s| s == 0), "the first 10 go at once: {sends:?}");
        assert_eq!(sends[10], 100_000);
        assert_eq!(sends[29], 2_000_000);
    }

    #[test]
    fn never_exceeds_a_token_bucket_of_the_plan() {
        // Token bucket check: in any window w, at most burst + rate·w requests.
        let p = Plan::SUBMIT_INVOICES;
        let arrivals: Vec<i64> = (0..300).map(|i| (i * 37_000) % 5_000_000).collect::<Vec<_>>();
        let mut sorted = arrivals.clone();
        sorted.sort();
        let sends = run(&p, &sorted);
        for w in [100_000i64, 500_000, 1_000_000, 3_000_000] {
            let allowed = p.burst as usize + (w as f64 * p.rate / 1e6) as usize;
            assert!(max_in_window(&sends, w) <= allowed, "window {w}");
        }
        assert!(sends.windows(2).all(|x| x[0] <= x[1]), "FIFO order kept");
    }

    #[test]
    fn idle_time_refills_the_burst_but_not_beyond() {
        let p = Plan::SUBMIT_INVOICES;
        let mut arrivals = vec![0; 10];
        arrivals.extend(vec![60_000_000; 12]); // a minute later
        let sends = run(&p, &arrivals);
        assert!(sends[10..20].iter().all(|&s| s == 60_000_000));
        assert_eq!(sends[20], 60_100_000);
    }

    #[test]
    fn margin_slows_and_shrinks_the_burst() {
        let m = Plan::SUBMIT_INVOICES.with_margin(0.03);
        assert_eq!(m.burst, 8);
        assert!(m.rate > 9.5 && m.rate < 10.0);
        assert_eq!(m.interval_us(), 103_000);
        assert_eq!(Plan::GET_TRANSACTION.tolerance_us(), 1_900_000);
    }

    #[test]
    fn the_next_slot_is_where_a_reservation_would_go_and_reserves_nothing() {
        let p = Plan { rate: 0.5, burst: 3 }; // T = 2 s, τ = 4 s
        assert_eq!(next_slot(&p, None, 1_000), 1_000, "never used: now");
        let mut tat = None;
        for i in 0..6 {
            let now = 10_000_000 + i * 100_000;
            let look = next_slot(&p, tat, now);
            assert_eq!(look, next_slot(&p, tat, now), "a look changes nothing");
            let r = reserve(&p, tat, now);
            assert_eq!(r.send_at_us, look, "reservation {i} goes where the look said");
            tat = Some(r.new_tat_us);
        }
        // Three at once (the burst), then one every 2 s: the 7th after the 6th at 16 s.
        assert_eq!(next_slot(&p, tat, 10_500_000), 18_000_000);
        assert_eq!(next_slot(&p, tat, 30_000_000), 30_000_000, "idle time: now again");
        // createReport: the burst used up, the next slot a minute away.
        let c = Plan::CREATE_REPORT.with_margin(0.03);
        assert_eq!(c.burst, 13);
        let mut tat = None;
        for _ in 0..13 {
            tat = Some(reserve(&c, tat, 0).new_tat_us);
        }
        let wait = next_slot(&c, tat, 0);
        assert!(wait > 60_000_000 && wait < 62_000_000, "{wait}");
    }
}
