//! Text of a PDF (to find an invoice number in it), with `lopdf`, bounded: at most
//! `max_bytes` of input and `max_pages` pages are read, the text is cut at `max_chars`, the
//! parser runs on its own thread with its panics contained, and the caller waits at most
//! `timeout` (a parse that overruns is abandoned: its thread ends when lopdf returns).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdfLimits {
    pub max_bytes: usize,
    pub max_pages: usize,
    pub max_chars: usize,
    pub timeout: Duration,
}

impl Default for PdfLimits {
    fn default() -> Self {
        PdfLimits { max_bytes: 25 * 1024 * 1024, max_pages: 20, max_chars: 200_000, timeout: Duration::from_secs(5) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    #[error("the PDF is larger than {0} bytes; its text was not read")]
    TooLarge(usize),
    #[error("the PDF could not be read: {0}")]
    Unreadable(String),
    #[error("the PDF reader failed on this document")]
    Panicked,
    #[error("reading the PDF's text took longer than {0:?}")]
    Timeout(Duration),
}

pub fn text(pdf: &[u8], limits: &PdfLimits) -> Result<String, PdfError> {
    if pdf.len() > limits.max_bytes {
        return Err(PdfError::TooLarge(limits.max_bytes));
    }
    let bytes = pdf.to_vec();
    let l = *limits;
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("pdf-text".into())
        .spawn(move || {
            let r = catch_unwind(AssertUnwindSafe(|| extract(&bytes, &l))).unwrap_or(Err(PdfError::Panicked));
            let _ = tx.send(r);
        })
        .map_err(|e| PdfError::Unreadable(format!("no thread: {e}")))?;
    rx.recv_timeout(limits.timeout).unwrap_or(Err(PdfError::Timeout(limits.timeout)))
}

/// The text with the default limits, `None` when it cannot be read (the ingestion's
/// [`invoice_domain::invoice::ports::PdfText`]).
pub fn text_of(pdf: &[u8]) -> Option<String> {
    text(pdf, &PdfLimits::default()).ok()
}

fn extract(bytes: &[u8], l: &PdfLimits) -> Result<String, PdfError> {
    let doc = lopdf::Document::load_mem(bytes).map_err(|e| PdfError::Unreadable(e.to_string()))?;
    let pages: Vec<u32> = doc.get_pages().keys().copied().take(l.max_pages).collect();
    let text = doc.extract_text(&pages).map_err(|e| PdfError::Unreadable(e.to_string()))?;
    Ok(text.chars().take(l.max_chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_contained() {
        assert!(matches!(text(b"%PDF-1.4 garbage", &PdfLimits::default()), Err(PdfError::Unreadable(_) | PdfError::Panicked)));
        let l = PdfLimits { max_bytes: 4, ..PdfLimits::default() };
        assert_eq!(text(b"%PDF-1.4", &l), Err(PdfError::TooLarge(4)));
    }
}
