//! The PDF of an imported invoice, through the Document API (Amazon Business API for Reports):
//! the `GET_AB_INVOICE_PDF` report request, the answers, and the small state machine from
//! "to request" to "stored" (or "unavailable", with its reason).
//!
//! The Document API model lists no report type and no report option. `GET_AB_INVOICE_PDF` and
//! its options come from Amazon's guides ("Downloading invoices in NA", "… in EU and JP") and
//! `createReport` reference: `{"invoiceId": <number>, "documentType": "Invoice"}` (a credit memo:
//! `"Credits"`, Amazon's NA example), or in EU and JP the order line
//! `{"orderId", "orderLineItemId", "shipmentId"}`. In NA only invoices of orders paid by
//! invoice (PBI) have a PDF; Amazon cancels a report that has no data, so `CANCELLED` means
//! "no PDF for this invoice" and is not retried.
//!
//! The flow: `createReport` (202, a `reportId`) → poll `getReport` with a growing delay until
//! `DONE` / `FATAL` / `CANCELLED` → `getReportDocument` (a presigned URL valid 5 minutes,
//! maybe GZIP) → download at once, gunzip if said, check it is a PDF, keep it as the company's
//! document linked to the invoice. An expired URL: get the document again. `FATAL`, a report
//! that stays queued, or a download that is not a PDF: a new report, up to [`MAX_ATTEMPTS`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::codes::{ImportCode, ImportProblem};
use super::json::{invalid, root, ParseError};
use super::mapping::PdfTarget;
use super::purchase::PurchaseKind;
use crate::invoice::document::{document_key, DocumentRecord, DocumentStatus};
use crate::invoice::records::{Channel, DocumentSource};

/// The report type of invoice and credit memo PDFs.
pub const REPORT_TYPE: &str = "GET_AB_INVOICE_PDF";
/// Polls of one report before it is given up (and requested again).
pub const MAX_POLLS: u32 = 20;
/// Reports requested for one invoice before its PDF is unavailable.
pub const MAX_ATTEMPTS: u32 = 3;

/// The body of `createReport` (`CreateReportSpecification`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateReportSpecification {
    pub report_type: String,
    pub marketplace_ids: Vec<String>,
    pub report_options: BTreeMap<String, String>,
}

/// How the PDF is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PdfSelector {
    /// `invoiceId` + `documentType` (every region).
    ByInvoice,
    /// `orderId` + `orderLineItemId` + `shipmentId` (EU and JP).
    ByOrderLine,
}

/// The `documentType` of an invoice or a credit memo.
pub fn document_type(kind: PurchaseKind) -> &'static str {
    match kind {
        PurchaseKind::Invoice => "Invoice",
        PurchaseKind::CreditMemo => "Credits",
    }
}

/// The `createReport` body for the PDF of one imported invoice, in the marketplace of its
/// transactions: `missing-marketplace` without one, `missing-order-line` by order line without one.
pub fn pdf_report_request(target: &PdfTarget, by: PdfSelector) -> Result<CreateReportSpecification, ImportProblem> {
    let Some(marketplace) = target.marketplace_id.as_deref().map(str::trim).filter(|m| !m.is_empty()) else {
        return Err(ImportProblem::new(
            ImportCode::MissingMarketplace,
            format!("invoice {}: its transactions name no marketplaceId, which the PDF report needs", target.invoice_number),
        ));
    };
    let mut options = BTreeMap::new();
    match by {
        PdfSelector::ByInvoice => {
            options.insert("invoiceId".to_string(), target.invoice_number.clone());
            options.insert("documentType".to_string(), document_type(target.kind).to_string());
        }
        PdfSelector::ByOrderLine => {
            let Some(l) = &target.order_line else {
                return Err(ImportProblem::new(
                    ImportCode::MissingOrderLine,
                    format!("invoice {}: no order line to ask its PDF by", target.invoice_number),
                ));
            };
            options.insert("orderId".to_string(), l.order_id.clone());
            options.insert("orderLineItemId".to_string(), l.order_line_item_id.clone());
            options.insert("shipmentId".to_string(), l.shipment_id.clone());
        }
    }
    Ok(CreateReportSpecification {
        report_type: REPORT_TYPE.into(),
        marketplace_ids: vec![marketplace.to_string()],
        report_options: options,
    })
}

/// `processingStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProcessingStatus {
    InQueue,
    InProgress,
    Done,
    Fatal,
    Cancelled,
    Other(String),
}

impl ProcessingStatus {
    pub fn parse(s: &str) -> ProcessingStatus {
        match s.trim().to_ascii_uppercase().as_str() {
            "IN_QUEUE" => ProcessingStatus::InQueue,
            "IN_PROGRESS" => ProcessingStatus::InProgress,
            "DONE" => ProcessingStatus::Done,
            "FATAL" => ProcessingStatus::Fatal,
            "CANCELLED" => ProcessingStatus::Cancelled,
            _ => ProcessingStatus::Other(s.trim().to_string()),
        }
    }
}

/// What `getReport` says of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportState {
    pub report_id: Option<String>,
    pub status: Option<ProcessingStatus>,
    pub report_document_id: Option<String>,
}

/// What `getReportDocument` gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportDocument {
    pub report_document_id: Option<String>,
    /// Presigned; valid 5 minutes.
    pub url: String,
    /// `compressionAlgorithm: GZIP`: gunzip the download.
    pub gzip: bool,
}

/// Reads the `createReport` answer (`CreateReportResponse`): the report id.
pub fn parse_create_report(json: &str) -> Result<String, ParseError> {
    let r = root(json, "reportId")?;
    r.text("reportId")?.ok_or_else(|| invalid("/reportId", "the answer has no reportId"))
}

/// Reads a `getReport` answer (`Report`).
pub fn parse_report(json: &str) -> Result<ReportState, ParseError> {
    let r = root(json, "processingStatus")?;
    Ok(ReportState {
        report_id: r.text("reportId")?,
        status: r.text("processingStatus")?.map(|s| ProcessingStatus::parse(&s)),
        report_document_id: r.text("reportDocumentId")?,
    })
}

/// Reads a `getReportDocument` answer (`ReportDocument`); a compression other than GZIP is an
/// error (the document could not be read).
pub fn parse_report_document(json: &str) -> Result<ReportDocument, ParseError> {
    let r = root(json, "url")?;
    let url = r.text("url")?.ok_or_else(|| invalid("/url", "the answer has no url"))?;
    let gzip = match r.text("compressionAlgorithm")? {
        None => false,
        Some(a) if a.eq_ignore_ascii_case("GZIP") => true,
        Some(a) => return Err(invalid("/compressionAlgorithm", format!("'{a}' is not a compression the model knows (GZIP)"))),
    };
    Ok(ReportDocument { report_document_id: r.text("reportDocumentId")?, url, gzip })
}

/// Where the PDF of one imported invoice is. Stored with the invoice's import state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum PdfJob {
    /// A report is to be requested (`attempts` were made before).
    ToRequest { attempts: u32 },
    /// Requested; being polled.
    Requested { report_id: String, polls: u32, attempts: u32 },
    /// Done: its document is to be fetched (again, when its URL expired).
    Ready { report_document_id: String, attempts: u32 },
    /// Kept as the company's document, linked to the invoice.
    Stored { document_key: String },
    /// No PDF: why.
    Unavailable { problem: ImportProblem },
}

impl Default for PdfJob {
    fn default() -> Self {
        PdfJob::ToRequest { attempts: 0 }
    }
}

impl PdfJob {
    /// Nothing more to do.
    pub fn is_final(&self) -> bool {
        matches!(self, PdfJob::Stored { .. } | PdfJob::Unavailable { .. })
    }
}

/// The next call for a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfStep {
    CreateReport(CreateReportSpecification),
    /// `getReport` after waiting `after_seconds`.
    PollReport {
        report_id: String,
        after_seconds: u64,
    },
    GetDocument {
        report_document_id: String,
    },
    Done,
}

/// The wait before the `polls`-th poll: 15 s, doubling, at most 5 minutes (the model states
/// no rate for `getReport`).
pub fn poll_delay_seconds(polls: u32) -> u64 {
    (15u64 << polls.min(5)).min(300)
}

/// The next call for `job`. An invoice whose report cannot be asked for (no marketplace) is an
/// error: the job is then [`PdfJob::Unavailable`] with it.
pub fn next_step(job: &PdfJob, target: &PdfTarget, by: PdfSelector) -> Result<PdfStep, ImportProblem> {
    Ok(match job {
        PdfJob::ToRequest { .. } => PdfStep::CreateReport(pdf_report_request(target, by)?),
        PdfJob::Requested { report_id, polls, .. } => {
            PdfStep::PollReport { report_id: report_id.clone(), after_seconds: poll_delay_seconds(*polls) }
        }
        PdfJob::Ready { report_document_id, .. } => PdfStep::GetDocument { report_document_id: report_document_id.clone() },
        PdfJob::Stored { .. } | PdfJob::Unavailable { .. } => PdfStep::Done,
    })
}

/// What happened to a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfEvent {
    /// `createReport` answered this report id.
    Created { report_id: String },
    /// `getReport` answered.
    Report(ReportState),
    /// The document's URL had expired before it was downloaded.
    UrlExpired,
    /// The document was downloaded (and gunzipped): a PDF or not, and where it is kept.
    Downloaded { is_pdf: bool, document_key: String },
}

fn retry_or(attempts: u32, code: ImportCode, what: String) -> PdfJob {
    if attempts < MAX_ATTEMPTS {
        PdfJob::ToRequest { attempts }
    } else {
        PdfJob::Unavailable { problem: ImportProblem::new(code, format!("{what}; no PDF after {attempts} reports")) }
    }
}

/// The job after an event. An event that does not belong to the job's state (a stale answer,
/// another report's status) leaves it as it is.
pub fn on_event(job: &PdfJob, event: &PdfEvent) -> PdfJob {
    match (job, event) {
        (PdfJob::ToRequest { attempts }, PdfEvent::Created { report_id }) => {
            PdfJob::Requested { report_id: report_id.clone(), polls: 0, attempts: attempts + 1 }
        }
        (PdfJob::Requested { report_id, polls, attempts }, PdfEvent::Report(state)) => {
            if state.report_id.as_ref().is_some_and(|id| id != report_id) {
                return job.clone();
            }
            match &state.status {
                Some(ProcessingStatus::Done) => match &state.report_document_id {
                    Some(doc) => PdfJob::Ready { report_document_id: doc.clone(), attempts: *attempts },
                    None => retry_or(*attempts, ImportCode::ReportFatal, format!("report {report_id} is DONE without a document")),
                },
                Some(ProcessingStatus::Fatal) => retry_or(*attempts, ImportCode::ReportFatal, format!("report {report_id} ended FATAL")),
                Some(ProcessingStatus::Cancelled) => PdfJob::Unavailable {
                    problem: ImportProblem::new(
                        ImportCode::ReportCancelled,
                        format!("report {report_id} was CANCELLED: Amazon has no PDF for the invoice (in NA, only orders paid by invoice have one)"),
                    ),
                },
                _ if polls + 1 >= MAX_POLLS => {
                    retry_or(*attempts, ImportCode::ReportTimeout, format!("report {report_id} was not done after {MAX_POLLS} polls"))
                }
                _ => PdfJob::Requested { report_id: report_id.clone(), polls: polls + 1, attempts: *attempts },
            }
        }
        (PdfJob::Ready { .. }, PdfEvent::UrlExpired) => job.clone(),
        (PdfJob::Ready { attempts, report_document_id }, PdfEvent::Downloaded { is_pdf, document_key }) => {
            if *is_pdf {
                PdfJob::Stored { document_key: document_key.clone() }
            } else {
                retry_or(*attempts, ImportCode::NotAPdf, format!("report document {report_document_id} is not a PDF"))
            }
        }
        _ => job.clone(),
    }
}

/// The company's document record of a downloaded invoice PDF, linked to its invoice (the
/// bytes are kept at `document_key(documents_prefix, company, sha)`).
pub fn pdf_document(
    company: &str,
    sha: &str,
    size: u64,
    received_at: &str,
    invoice_number: &str,
    invoice_key: &str,
    documents_prefix: &str,
) -> DocumentRecord {
    DocumentRecord {
        company: company.to_string(),
        content_sha256: sha.to_string(),
        document_key: document_key(documents_prefix, company, sha),
        source_key: format!("amazon-business:report/{invoice_number}"),
        source: DocumentSource {
            channel: Channel::Import,
            sender: Some(super::mapping::AMAZON_BUSINESS_NAME.to_string()),
            ..Default::default()
        },
        size,
        received_at: received_at.to_string(),
        invoice_number: Some(invoice_number.to_string()),
        number_from: None,
        status: DocumentStatus::Linked,
        invoice_key: Some(invoice_key.to_string()),
        reason: None,
        reason_detail: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::answer::OrderLineItem;

    fn target(kind: PurchaseKind) -> PdfTarget {
        PdfTarget {
            invoice_number: "FR5001ABC1".into(),
            kind,
            marketplace_id: Some("A13V1IB3VIYZZH".into()),
            order_line: Some(OrderLineItem { order_id: "402-1".into(), order_line_item_id: "111".into(), shipment_id: "Dx1".into() }),
        }
    }

    #[test]
    fn the_report_request_body_of_an_invoice_and_a_credit_memo() {
        let body = serde_json::to_value(pdf_report_request(&target(PurchaseKind::Invoice), PdfSelector::ByInvoice).unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "reportType": "GET_AB_INVOICE_PDF",
                "marketplaceIds": ["A13V1IB3VIYZZH"],
                "reportOptions": {"invoiceId": "FR5001ABC1", "documentType": "Invoice"}
            })
        );
        assert!(body.get("dataStartTime").is_none(), "no data window: the type does not use it");
        let memo = pdf_report_request(&target(PurchaseKind::CreditMemo), PdfSelector::ByInvoice).unwrap();
        assert_eq!(memo.report_options["documentType"], "Credits");
        let by_line = serde_json::to_value(pdf_report_request(&target(PurchaseKind::Invoice), PdfSelector::ByOrderLine).unwrap()).unwrap();
        assert_eq!(by_line["reportOptions"], serde_json::json!({"orderId": "402-1", "orderLineItemId": "111", "shipmentId": "Dx1"}));
        let none = PdfTarget { marketplace_id: None, ..target(PurchaseKind::Invoice) };
        let e = pdf_report_request(&none, PdfSelector::ByInvoice).unwrap_err();
        assert_eq!(e.code, ImportCode::MissingMarketplace);
        assert!(e.message.contains("FR5001ABC1"));
        let no_line = PdfTarget { order_line: None, ..target(PurchaseKind::Invoice) };
        assert_eq!(pdf_report_request(&no_line, PdfSelector::ByOrderLine).unwrap_err().code, ImportCode::MissingOrderLine);
        assert!(pdf_report_request(&no_line, PdfSelector::ByInvoice).is_ok());
    }

    #[test]
    fn the_document_api_answers() {
        assert_eq!(parse_create_report(r#"{"reportId": "ID323"}"#).unwrap(), "ID323");
        assert!(parse_create_report("{}").is_err());
        let r = parse_report(
            r#"{"reportId":"ID323","reportType":"GET_AB_INVOICE_PDF","processingStatus":"DONE","createdTime":"2026-03-03T07:00:00Z","reportDocumentId":"DOC-1"}"#,
        )
        .unwrap();
        assert_eq!((r.status, r.report_document_id.as_deref()), (Some(ProcessingStatus::Done), Some("DOC-1")));
        assert_eq!(parse_report(r#"{"processingStatus":"IN_QUEUE"}"#).unwrap().status, Some(ProcessingStatus::InQueue));
        let d =
            parse_report_document(r#"{"reportDocumentId":"DOC-1","url":"https://example.invalid/x.pdf","compressionAlgorithm":"GZIP"}"#)
                .unwrap();
        assert!(d.gzip);
        assert!(!parse_report_document(r#"{"url":"https://example.invalid/x"}"#).unwrap().gzip);
        assert!(parse_report_document(r#"{"url":"u","compressionAlgorithm":"ZSTD"}"#).unwrap_err().to_string().contains("ZSTD"));
        let e = parse_report(r#"{"errors":[{"code":"400","message":"Invalid input","details":"Invalid input"}]}"#).unwrap_err();
        assert!(matches!(e, ParseError::ErrorList(_)));
    }

    fn report(id: &str, status: &str, doc: Option<&str>) -> PdfEvent {
        PdfEvent::Report(ReportState {
            report_id: Some(id.into()),
            status: Some(ProcessingStatus::parse(status)),
            report_document_id: doc.map(Into::into),
        })
    }

    #[test]
    fn done_leads_to_the_document_then_the_stored_pdf() {
        let t = target(PurchaseKind::Invoice);
        let job = PdfJob::default();
        assert!(matches!(next_step(&job, &t, PdfSelector::ByInvoice).unwrap(), PdfStep::CreateReport(_)));
        let job = on_event(&job, &PdfEvent::Created { report_id: "R1".into() });
        assert_eq!(job, PdfJob::Requested { report_id: "R1".into(), polls: 0, attempts: 1 });
        assert_eq!(next_step(&job, &t, PdfSelector::ByInvoice).unwrap(), PdfStep::PollReport { report_id: "R1".into(), after_seconds: 15 });
        let job = on_event(&job, &report("R1", "IN_QUEUE", None));
        let job = on_event(&job, &report("R1", "IN_PROGRESS", None));
        assert_eq!(job, PdfJob::Requested { report_id: "R1".into(), polls: 2, attempts: 1 });
        assert_eq!(next_step(&job, &t, PdfSelector::ByInvoice).unwrap(), PdfStep::PollReport { report_id: "R1".into(), after_seconds: 60 });
        assert_eq!(on_event(&job, &report("R0", "DONE", Some("OLD"))), job, "another report's status changes nothing");
        let job = on_event(&job, &report("R1", "DONE", Some("DOC-1")));
        assert_eq!(next_step(&job, &t, PdfSelector::ByInvoice).unwrap(), PdfStep::GetDocument { report_document_id: "DOC-1".into() });
        assert_eq!(on_event(&job, &PdfEvent::UrlExpired), job, "an expired URL: get the document again");
        let job = on_event(&job, &PdfEvent::Downloaded { is_pdf: true, document_key: "documents/acme/abc.pdf".into() });
        assert_eq!(job, PdfJob::Stored { document_key: "documents/acme/abc.pdf".into() });
        assert!(job.is_final());
        assert_eq!(next_step(&job, &t, PdfSelector::ByInvoice).unwrap(), PdfStep::Done);
    }

    #[test]
    fn fatal_is_retried_then_unavailable_and_cancelled_is_final() {
        let mut job = PdfJob::default();
        for attempt in 1..=MAX_ATTEMPTS {
            job = on_event(&job, &PdfEvent::Created { report_id: format!("R{attempt}") });
            job = on_event(&job, &report(&format!("R{attempt}"), "FATAL", None));
        }
        let PdfJob::Unavailable { problem } = &job else { panic!("{job:?}") };
        assert_eq!(problem.code, ImportCode::ReportFatal);
        assert!(problem.message.contains("R3") && problem.message.contains("3 reports"), "{}", problem.message);
        let job = on_event(&PdfJob::default(), &PdfEvent::Created { report_id: "R1".into() });
        assert_eq!(on_event(&job, &report("R1", "FATAL", None)), PdfJob::ToRequest { attempts: 1 }, "one more report");
        let PdfJob::Unavailable { problem } = on_event(&job, &report("R1", "CANCELLED", None)) else { panic!() };
        assert_eq!(problem.code, ImportCode::ReportCancelled, "no data: no PDF, not retried");
        assert_eq!(on_event(&job, &report("R1", "DONE", None)), PdfJob::ToRequest { attempts: 1 }, "DONE without a document");
    }

    #[test]
    fn a_report_that_never_finishes_times_out_and_a_non_pdf_is_retried() {
        let mut job = on_event(&PdfJob::default(), &PdfEvent::Created { report_id: "R1".into() });
        for _ in 0..MAX_POLLS - 1 {
            job = on_event(&job, &report("R1", "IN_PROGRESS", None));
        }
        assert!(matches!(job, PdfJob::Requested { polls, .. } if polls == MAX_POLLS - 1));
        assert_eq!(on_event(&job, &report("R1", "IN_QUEUE", None)), PdfJob::ToRequest { attempts: 1 });
        let ready = PdfJob::Ready { report_document_id: "D".into(), attempts: MAX_ATTEMPTS };
        let PdfJob::Unavailable { problem } = on_event(&ready, &PdfEvent::Downloaded { is_pdf: false, document_key: "k".into() }) else {
            panic!()
        };
        assert_eq!(problem.code, ImportCode::NotAPdf);
        assert_eq!(
            on_event(
                &PdfJob::Ready { report_document_id: "D".into(), attempts: 1 },
                &PdfEvent::Downloaded { is_pdf: false, document_key: "k".into() }
            ),
            PdfJob::ToRequest { attempts: 1 }
        );
        assert_eq!((poll_delay_seconds(0), poll_delay_seconds(4), poll_delay_seconds(9)), (15, 240, 300));
        let json = serde_json::to_value(PdfJob::Requested { report_id: "R1".into(), polls: 2, attempts: 1 }).unwrap();
        assert_eq!(json, serde_json::json!({"state": "requested", "report_id": "R1", "polls": 2, "attempts": 1}));
        assert_eq!(serde_json::from_value::<PdfJob>(json).unwrap(), PdfJob::Requested { report_id: "R1".into(), polls: 2, attempts: 1 });
    }

    #[test]
    fn the_downloaded_pdf_is_a_linked_document_of_the_company() {
        let d = pdf_document(
            "acme",
            &"a".repeat(64),
            1234,
            "2026-03-03T07:00:00.000Z",
            "FR5001ABC1",
            "NetworkID:AN01011737571#FR5001ABC1",
            "documents/",
        );
        assert_eq!(d.document_key, format!("documents/acme/{}.pdf", "a".repeat(64)));
        assert_eq!((d.status, d.invoice_key.as_deref()), (DocumentStatus::Linked, Some("NetworkID:AN01011737571#FR5001ABC1")));
        assert_eq!(d.source.channel, Channel::Import);
    }
}
