//! Placing one purchase order exactly once.
//!
//! 1. Validate and build the body ([`super::build`]). Problems → the PO is stored `Refused`
//!    with every problem; nothing is sent (the message is done: resending it changes nothing).
//! 2. **Claim** the PO: create its record in state `Placing` under this delivery's claim with a
//!    conditional write. A redelivered or duplicated message finds the claim:
//!    - final (Placed, PartiallyRejected, Rejected, Error) → nothing is sent again;
//!    - `Placing` under another claim (an earlier delivery crashed, or its answer was lost) →
//!      the outcome is first **resolved with `orderDetails` by externalId**: found → recorded
//!      from it; 404 → this delivery takes the claim over and places it (with the same
//!      externalId, so Amazon itself would refuse a second order); not answerable now → retried.
//! 3. POST `placeOrder`, then by outcome:
//!    - 200 → the answer read fully (a 200 can reject lines): Placed / PartiallyRejected /
//!      Rejected with what Amazon accepted, the Amazon order ids, the rejections in words;
//!    - rejected (400…) → `Error` with Amazon's message; not retried;
//!    - transient (429 after retries, 5xx, not sent) or not authorised → the claim is released
//!      and the message retried later;
//!    - unknown (sent, no readable answer) → the claim stays `Placing` and the message is
//!      retried: the next delivery resolves it with `orderDetails` (step 2).

use chrono::{DateTime, Utc};

use super::placed::{parse_order_details_result, parse_place_order_result, ParseError, PlacedOrder};
use super::po::PoInput;
use super::ports::{DetailsResult, OrderingApi, PlaceResult, PoRepository};
use super::records::{ClaimOutcome, PoProblem, PoRecord, PoState};
use crate::core::time::iso;
use crate::core::PortError;

/// A message of the PO queue: the company and its PO as the procurement system sent it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct PoMessage {
    pub company: String,
    pub po: PoInput,
}

/// Reads a queue message (JSON text; amounts keep their digits).
pub fn read_message(text: &str) -> Result<PoMessage, String> {
    serde_json::from_str(text).map_err(|e| format!("not a PO message ({{\"company\", \"po\": {{…}}}}): {e}"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceOutcome {
    /// Refused before sending, with every problem's code.
    Refused { codes: Vec<String> },
    /// Placed now (or resolved from `orderDetails`): the state and Amazon order ids.
    Recorded { state: PoState, amazon_order_ids: Vec<String>, resolved: bool },
    /// Already final: nothing sent.
    AlreadyDone { state: PoState },
    /// Amazon refused the request.
    Error { message: String },
}

#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("storage: {0}")]
    Port(#[from] PortError),
    /// Nothing was placed; the message must be retried later (claim released).
    #[error("transient Ordering API failure, retry later: {0}")]
    Transient(String),
    #[error("Amazon Business authorisation failed, retry after the connection is fixed: {0}")]
    NotAuthorized(String),
    /// The outcome is unknown; the claim stays and the next delivery resolves it.
    #[error("outcome unknown, resolved on the next delivery with orderDetails: {0}")]
    Unresolved(String),
}

/// The rejections of a placed order in words (none → `None`).
pub fn rejections_in_words(placed: &PlacedOrder) -> Option<String> {
    let mut parts: Vec<String> = placed.rejections.iter().map(|r| format!("order: {r}")).collect();
    for line in &placed.lines {
        for r in &line.rejected {
            let why: Vec<String> = r.reasons.iter().map(ToString::to_string).collect();
            let why = if why.is_empty() { "no reason given".to_string() } else { why.join("; ") };
            parts.push(format!("line {}: {} rejected ({why})", line.line_number, r.quantity));
        }
    }
    (!parts.is_empty()).then(|| parts.join(". "))
}

fn recorded(mut record: PoRecord, placed: PlacedOrder, at: &str) -> PoRecord {
    record.state = placed.status.into();
    record.amazon_order_ids = placed.order_ids.clone();
    record.message = rejections_in_words(&placed);
    record.placed = Some(placed);
    record.updated_at = at.to_string();
    record
}

/// Places the PO of one message. `claim_id` identifies this delivery; `now` is injected.
pub async fn place_po<R: PoRepository + Sync, A: OrderingApi + Sync>(
    repo: &R,
    api: &A,
    company: &str,
    input: &PoInput,
    raw: &str,
    claim_id: &str,
    now: DateTime<Utc>,
) -> Result<PlaceOutcome, PlaceError> {
    let at = iso(now);
    let mut record = PoRecord {
        company: company.to_string(),
        po_number: input.po_number.clone(),
        external_id: input.external_id.clone().unwrap_or_default(),
        state: PoState::Placing,
        po: None,
        input: None,
        problems: vec![],
        placed: None,
        amazon_order_ids: vec![],
        message: None,
        claim_id: claim_id.to_string(),
        received_at: at.clone(),
        updated_at: at.clone(),
    };
    let (po, body) = match super::build(input) {
        Ok(built) => built,
        Err(problems) => {
            record.state = PoState::Refused;
            record.input = Some(raw.to_string());
            record.problems = problems.iter().map(|p| PoProblem { code: p.code.to_string(), message: p.message.clone() }).collect();
            record.message = Some(problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "));
            repo.put_refused(&record).await?;
            return Ok(PlaceOutcome::Refused { codes: record.problems.iter().map(|p| p.code.clone()).collect() });
        }
    };
    let email = po.buyer_email.clone();
    record.external_id = po.external_id.clone();
    record.po = Some(po);
    match repo.claim(&record).await? {
        ClaimOutcome::Claimed => {}
        ClaimOutcome::Exists(existing) if existing.state.is_final() => return Ok(PlaceOutcome::AlreadyDone { state: existing.state }),
        ClaimOutcome::Exists(existing) => {
            // Placing under an earlier delivery: what happened to it?
            record.received_at = existing.received_at.clone();
            match api.details(&existing.external_id, &email).await {
                DetailsResult::Found(text) => {
                    let placed = parse_order_details_result(&text).map_err(|e| PlaceError::Unresolved(e.to_string()))?;
                    if !repo.take_over(&record, &existing.claim_id).await? {
                        return Err(PlaceError::Unresolved("another delivery is resolving this PO".into()));
                    }
                    let r = recorded(record, placed, &at);
                    let (state, ids) = (r.state, r.amazon_order_ids.clone());
                    repo.record(&r).await?;
                    return Ok(PlaceOutcome::Recorded { state, amazon_order_ids: ids, resolved: true });
                }
                DetailsResult::NotFound => {
                    if !repo.take_over(&record, &existing.claim_id).await? {
                        return Err(PlaceError::Unresolved("another delivery is placing this PO".into()));
                    }
                }
                DetailsResult::Unavailable(e) => return Err(PlaceError::Transient(format!("orderDetails: {e}"))),
                DetailsResult::NotAuthorized(e) => return Err(PlaceError::NotAuthorized(e)),
            }
        }
    }
    match api.place(&body).await {
        PlaceResult::Answered(text) => match parse_place_order_result(&text) {
            Ok(placed) => {
                let r = recorded(record, placed, &at);
                let (state, ids) = (r.state, r.amazon_order_ids.clone());
                repo.record(&r).await?;
                Ok(PlaceOutcome::Recorded { state, amazon_order_ids: ids, resolved: false })
            }
            Err(ParseError::ErrorList(errors)) => {
                let message = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                record.state = PoState::Error;
                record.message = Some(message.clone());
                repo.record(&record).await?;
                Ok(PlaceOutcome::Error { message })
            }
            // Amazon answered but not readably: the order may exist; resolved next time.
            Err(e) => Err(PlaceError::Unresolved(format!("placeOrder answer: {e}"))),
        },
        PlaceResult::Rejected { status, code, message } => {
            let message = format!("HTTP {status} {code}: {message}");
            record.state = PoState::Error;
            record.message = Some(message.clone());
            repo.record(&record).await?;
            Ok(PlaceOutcome::Error { message })
        }
        PlaceResult::Transient(e) => {
            repo.release(&record.po_number, claim_id).await?;
            Err(PlaceError::Transient(e))
        }
        PlaceResult::NotAuthorized(e) => {
            repo.release(&record.po_number, claim_id).await?;
            Err(PlaceError::NotAuthorized(e))
        }
        PlaceResult::Unknown(e) => Err(PlaceError::Unresolved(e)),
    }
}
