//! `invoicectl mail inspect`: what ingest-mail would do with a raw message, offline (or with a
//! company's stored settings); `invoicectl company set-mail`: a company's e-mail channel.

use std::io::Write;
use std::path::Path;

use invoice_adapters::companies::DynamoCompanies;
use invoice_domain::channel::mail::{self, decide, invoice_number_in, Kind, MailLimits};
use invoice_domain::company::MailSettings;
use invoice_domain::invoice::cxml::Limits;
use invoice_domain::invoice::report::CheckReport;
use serde_json::json;

/// Exit status: 0 accepted, 1 quarantined, 2 unreadable file or settings.
pub fn inspect(file: &Path, company: Option<String>, allow: Vec<String>, gray_passes: bool, json_out: bool) -> i32 {
    let limits = MailLimits::default();
    let raw = match read_capped(file, limits.max_message_bytes) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("invoicectl: cannot read {}: {e}", file.display());
            return 2;
        }
    };
    let settings = match &company {
        Some(id) => match crate::block_on_value(settings_of(id.clone())) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("invoicectl: {e}");
                return 2;
            }
        },
        None => MailSettings { addresses: vec![], allow, gray_passes },
    };
    let m = mail::read(&raw, &limits);
    drop(raw);
    let reasons = decide(&m, &settings);
    let attachments: Vec<serde_json::Value> = m
        .attachments
        .iter()
        .map(|a| {
            let (number, check) = match a.kind {
                Kind::Cxml => {
                    let checked = invoice_domain::invoice::check(&a.bytes, &Limits::default());
                    let number = checked.invoice.as_ref().and_then(|i| i.header.invoice_id.as_ref().map(|t| t.to_string()));
                    (number, serde_json::to_value(CheckReport::new(a.name.clone(), &checked)).ok())
                }
                Kind::Pdf => {
                    let text = invoice_adapters::pdf::text(&a.bytes, &invoice_adapters::pdf::PdfLimits::default()).ok();
                    let number = invoice_number_in(&a.name)
                        .or_else(|| m.subject.as_deref().and_then(invoice_number_in))
                        .or_else(|| text.as_deref().and_then(invoice_number_in));
                    (number, None)
                }
                Kind::Other => (None, None),
            };
            json!({"name": a.name, "content_type": a.content_type, "kind": a.kind, "bytes": a.size, "sha256": a.sha256,
                   "invoice_number": number, "check": check})
        })
        .collect();
    let accepted = reasons.is_empty();
    let report = json!({
        "company": company, "from": m.from, "subject": m.subject, "message_id": m.message_id, "accepted": accepted,
        "reasons": reasons, "attachments": attachments,
    });
    let mut out = std::io::stdout().lock();
    let _ = if json_out {
        writeln!(out, "{report}")
    } else {
        let mut s = format!(
            "{}: {}\n  from {}  subject {:?}\n",
            file.display(),
            if accepted { "ACCEPTED" } else { "QUARANTINED" },
            m.from.as_deref().unwrap_or("?"),
            m.subject.as_deref().unwrap_or("")
        );
        for r in &reasons {
            s.push_str(&format!("  {}: {}\n", r.code.as_str(), r.message));
        }
        for a in &attachments {
            s.push_str(&format!("  attachment {} ({}, {} bytes) invoice {}\n", a["name"], a["kind"], a["bytes"], a["invoice_number"]));
        }
        write!(out, "{s}")
    };
    if accepted {
        0
    } else {
        1
    }
}

async fn settings_of(id: String) -> Result<MailSettings, String> {
    let conf = invoice_adapters::sdk_config().await;
    Ok(crate::company::require(&conf, &id).await?.mail)
}

/// `company set-mail`: replaces the company's e-mail settings; prints them.
pub fn set_mail(id: String, addresses: Vec<String>, allow: Vec<String>, gray_passes: bool) -> i32 {
    crate::block_on(async move {
        let conf = invoice_adapters::sdk_config().await;
        let dir = DynamoCompanies::new(invoice_adapters::dynamodb_client(&conf), crate::store::table()?);
        let settings = MailSettings { addresses, allow, gray_passes };
        let stored = dir.set_mail(&id, &settings).await.map_err(|e| e.to_string())??;
        println!("{}", json!({"id": id, "mail": stored}));
        Ok(())
    })
}

fn read_capped(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    if f.metadata()?.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    let mut buf = Vec::new();
    f.take(max as u64 + 1).read_to_end(&mut buf)?;
    Ok(buf)
}
