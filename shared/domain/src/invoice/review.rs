//! One review status for every received invoice, whatever its channel: **To process** (booked,
//! nobody has looked at it), **Approved** (an approver approved it), **Exported** (handed to
//! accounting). Stored on the header (`review_status`, with a `history` entry per action, who
//! and when); an imported invoice without it reads its Amazon Business filing
//! (`purchase.review`: processed → Approved). Cancelled (the invoice's status) and Exception
//! (its match) are shown beside it, not instead of it.

use serde::{Deserialize, Serialize};
use strum::{EnumIter, IntoStaticStr};

use crate::import::purchase::ReviewStatus;
use crate::invoice::records::{InvoiceRecord, InvoiceStatus};
use crate::matching::MatchStatus;

/// The review status as stored (`review_status`), spelled in kebab-case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter, IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ReviewState {
    #[default]
    ToProcess,
    Approved,
    Exported,
}

impl ReviewState {
    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    pub fn label(&self) -> &'static str {
        match self {
            ReviewState::ToProcess => "To process",
            ReviewState::Approved => "Approved",
            ReviewState::Exported => "Exported",
        }
    }
}

/// What a person did to an invoice (kept in its `history`, oldest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Action {
    Approved,
    Exported,
}

/// One history entry: the action, the user (token subject and e-mail) and the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub action: Action,
    pub by_sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_email: Option<String>,
    pub at: String,
}

/// The review status of an invoice: the stored one, else the imported filing, else To process.
pub fn review_of(h: &InvoiceRecord) -> ReviewState {
    match (h.review_status, &h.purchase) {
        (Some(s), _) => s,
        (None, Some(p)) if p.review == ReviewStatus::Processed => ReviewState::Approved,
        _ => ReviewState::ToProcess,
    }
}

/// The statuses the dashboard filters by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter, IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ListStatus {
    ToProcess,
    Approved,
    Exported,
    Cancelled,
    Exception,
}

impl ListStatus {
    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<ListStatus> {
        use strum::IntoEnumIterator;
        ListStatus::iter().find(|v| v.as_str() == s)
    }

    pub fn label(&self) -> &'static str {
        match self {
            ListStatus::ToProcess => "To process",
            ListStatus::Approved => "Approved",
            ListStatus::Exported => "Exported",
            ListStatus::Cancelled => "Cancelled",
            ListStatus::Exception => "Exception",
        }
    }

    /// True when the invoice is in this status (what the index queries select, checked again).
    pub fn holds(&self, h: &InvoiceRecord) -> bool {
        match self {
            ListStatus::Cancelled => h.status == InvoiceStatus::Cancelled,
            ListStatus::Exception => h.matching.as_ref().is_some_and(|m| m.status == MatchStatus::Exception),
            ListStatus::ToProcess => h.status == InvoiceStatus::Valid && review_of(h) == ReviewState::ToProcess,
            ListStatus::Approved => h.status == InvoiceStatus::Valid && review_of(h) == ReviewState::Approved,
            ListStatus::Exported => h.status == InvoiceStatus::Valid && review_of(h) == ReviewState::Exported,
        }
    }
}

/// Why an action cannot be applied to an invoice now (what the other person is told).
pub fn refusal(h: &InvoiceRecord, action: Action) -> Option<String> {
    if h.status != InvoiceStatus::Valid {
        return Some(format!("the invoice is {}, it cannot be {}", h.status.as_str().to_lowercase(), action_word(action)));
    }
    let now = review_of(h);
    match (action, now) {
        (Action::Approved, ReviewState::ToProcess) | (Action::Exported, ReviewState::Approved) => None,
        (Action::Approved, s) => Some(format!("the invoice is already {}", s.label().to_lowercase())),
        (Action::Exported, ReviewState::ToProcess) => Some("the invoice is not approved yet: approve it before exporting".into()),
        (Action::Exported, s) => Some(format!("the invoice is already {}", s.label().to_lowercase())),
    }
}

fn action_word(a: Action) -> &'static str {
    match a {
        Action::Approved => "approved",
        Action::Exported => "exported",
    }
}

/// One event of an invoice's timeline (received, matched, approved, exported, cancelled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEvent {
    pub what: String,
    pub at: Option<String>,
    pub by: Option<String>,
}

/// The invoice's history, oldest first.
pub fn timeline(h: &InvoiceRecord) -> Vec<TimelineEvent> {
    let mut out = vec![TimelineEvent {
        what: format!("Received ({})", h.source.channel.as_str()),
        at: Some(h.received_at.clone()),
        by: h.source.sender.clone(),
    }];
    if let Some(m) = &h.matching {
        let what = match (&m.status, &m.po_number) {
            (MatchStatus::Matched, Some(po)) => format!("Matched to {po}"),
            (MatchStatus::Matched, None) => "Matched".to_string(),
            (MatchStatus::Exception, _) => format!("Match exception ({} finding(s))", m.exceptions.len()),
        };
        out.push(TimelineEvent { what, at: None, by: None });
    }
    if let Some(p) = &h.purchase {
        if h.review_status.is_none() && p.review == ReviewStatus::Processed {
            out.push(TimelineEvent { what: "Processed in Amazon Business".into(), at: None, by: None });
        }
    }
    for e in &h.history {
        let what = match e.action {
            Action::Approved => "Approved",
            Action::Exported => "Exported",
        };
        out.push(TimelineEvent {
            what: what.into(),
            at: Some(e.at.clone()),
            by: Some(e.by_email.clone().unwrap_or_else(|| e.by_sub.clone())),
        });
    }
    if h.status == InvoiceStatus::Cancelled {
        out.push(TimelineEvent { what: "Cancelled by the supplier".into(), at: h.cancelled_at.clone(), by: None });
    }
    out
}
