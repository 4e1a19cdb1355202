//! The daily run: which companies it starts, and the messages that carry one company's pass
//! (and its PDFs) from one invocation to the next.

use serde::{Deserialize, Serialize};

use crate::company::{Company, ConnectionStatus};

/// What a message of the import queues asks for. Spelled in kebab-case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Work {
    /// A pass over the company's feed (then its PDFs are queued).
    #[default]
    Pass,
    /// The company's open PDF tasks (the paced document queue).
    Pdfs,
}

/// One message: `{"company": "acme", "work": "pass", "run": "2026-12-02", "hop": 0}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportMessage {
    pub company: String,
    #[serde(default)]
    pub work: Work,
    /// The daily run it belongs to (the schedule's date), for the logs.
    #[serde(default)]
    pub run: Option<String>,
    /// How many times this pass was continued in a new message (time ran short).
    #[serde(default)]
    pub hop: u32,
}

impl ImportMessage {
    pub fn pass(company: &str, run: &str) -> ImportMessage {
        ImportMessage { company: company.to_string(), work: Work::Pass, run: Some(run.to_string()), hop: 0 }
    }

    /// The message that goes on where this one stopped.
    pub fn next_hop(&self) -> ImportMessage {
        ImportMessage { hop: self.hop + 1, ..self.clone() }
    }

    /// The PDF message of the same company and run.
    pub fn pdfs(&self) -> ImportMessage {
        ImportMessage { work: Work::Pdfs, hop: 0, ..self.clone() }
    }
}

/// Reads a message body; a clear reason when it is not one.
pub fn read_message(body: &str) -> Result<ImportMessage, String> {
    let m: ImportMessage =
        serde_json::from_str(body).map_err(|e| format!("not an import message ({e}): expected {{\"company\": \"<id>\"}}"))?;
    if let Some(p) = crate::company::id_problem(&m.company) {
        return Err(format!("not an import message: {p}"));
    }
    Ok(m)
}

/// Why a company is not imported today (`None`: it is).
pub fn not_due(c: &Company) -> Option<String> {
    let Some(b) = &c.business else { return Some("no Amazon Business connection".into()) };
    if b.status == ConnectionStatus::NotAuthorized {
        return Some(format!(
            "Amazon refused its credentials ({}); reconnect with invoicectl company connect-amazon-business",
            b.status_reason.as_deref().unwrap_or("no reason given")
        ));
    }
    if !b.import.auto_import {
        return Some("automatic import is off (invoicectl company set-import --auto-import on)".into());
    }
    None
}

/// The daily run's messages: one per company connected with auto import on, so that a slow or
/// failing company never holds up the others.
pub fn daily_messages(companies: &[Company], run: &str) -> Vec<ImportMessage> {
    companies.iter().filter(|c| not_due(c).is_none()).map(|c| ImportMessage::pass(&c.id, run)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::company::{BusinessConnection, BusinessRegion};

    fn company(id: &str, conn: Option<(ConnectionStatus, bool)>) -> Company {
        let mut c = Company::new(id, id, &[], "2026-01-01T00:00:00Z").unwrap();
        c.business = conn.map(|(status, auto)| BusinessConnection {
            region: BusinessRegion::Na,
            secret_id: "s".into(),
            connected_at: "2026-11-01T00:00:00Z".into(),
            status,
            status_reason: Some("invalid_grant".into()),
            status_at: None,
            import: crate::import::ImportSettings { auto_import: auto, ..Default::default() },
        });
        c
    }

    #[test]
    fn only_connected_companies_with_auto_import_are_run() {
        let all = [
            company("on", Some((ConnectionStatus::Connected, true))),
            company("off", Some((ConnectionStatus::Connected, false))),
            company("revoked", Some((ConnectionStatus::NotAuthorized, true))),
            company("none", None),
        ];
        let m = daily_messages(&all, "2026-12-02");
        assert_eq!(m, vec![ImportMessage::pass("on", "2026-12-02")]);
        assert!(not_due(&all[1]).unwrap().contains("--auto-import on"));
        assert!(not_due(&all[2]).unwrap().contains("invalid_grant"));
        assert!(not_due(&all[3]).unwrap().contains("no Amazon Business"));
    }

    #[test]
    fn messages_round_trip_and_bad_ones_say_why() {
        let m = ImportMessage::pass("acme", "2026-12-02").next_hop();
        assert_eq!(m.hop, 1);
        let back = read_message(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(read_message(r#"{"company":"acme"}"#).unwrap().work, Work::Pass);
        assert_eq!(m.pdfs().work, Work::Pdfs);
        assert!(read_message("[]").unwrap_err().contains("not an import message"));
        assert!(read_message(r#"{"company":"a b"}"#).is_err());
    }
}
