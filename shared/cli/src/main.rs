//! invoicectl: operator CLI of Invoice Bridge.
//!
//! `check`, `match`, `vendor preview` and `mail inspect` work offline; the other commands
//! talk to the configured DynamoDB/S3 (AWS, or the local stack through AWS_ENDPOINT_URL_* as
//! written by `infra/stack.sh`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use invoice_domain::invoice::cxml::Limits;

mod check;
mod company;
mod export;
mod import;
mod mail;
mod matching;
mod order;
mod store;
mod vendor;

#[derive(Parser)]
#[command(name = "invoicectl", version, about = "Operator tools for Invoice Bridge")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Validate cXML invoice documents offline.
    Check {
        /// One JSON object per file per line.
        #[arg(long)]
        json: bool,
        /// Largest document accepted, in bytes.
        #[arg(long, default_value_t = Limits::default().max_bytes)]
        max_bytes: usize,
        /// Deepest element nesting accepted.
        #[arg(long, default_value_t = Limits::default().max_depth)]
        max_depth: usize,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Offline: match a cXML invoice against its PO (the PO JSON `placeOrder` was sent from),
    /// with what Amazon accepted (the placeOrder answer) and the company's tolerances. Exit 0
    /// matched, 1 an exception, 2 usage / unreadable.
    Match {
        /// The cXML invoice.
        invoice: PathBuf,
        /// The PO, as the procurement system sends it (validated as for placeOrder).
        #[arg(long)]
        po: PathBuf,
        /// The placeOrder (or orderDetails) answer for the PO.
        #[arg(long)]
        placed: Option<PathBuf>,
        /// The company's tolerances (JSON: unit_price, quantity, amount); defaults otherwise.
        #[arg(long)]
        tolerances: Option<PathBuf>,
        /// The outcome as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Companies (tenants): create, show, list, connect their Amazon vendor account.
    Company {
        #[command(subcommand)]
        cmd: CompanyCmd,
    },
    /// Rejected documents and why.
    Quarantine {
        #[command(subcommand)]
        cmd: QuarantineCmd,
    },
    /// Stored invoices.
    Invoices {
        #[command(subcommand)]
        cmd: InvoicesCmd,
    },
    /// A company's PDF documents (linked to their invoice, or awaiting its data).
    Documents {
        #[command(subcommand)]
        cmd: DocumentsCmd,
    },
    /// Export a company's books: its journal entries over a date range.
    Export {
        #[command(subcommand)]
        cmd: ExportCmd,
    },
    /// Vendor invoices (SP-API submitInvoices).
    Vendor {
        #[command(subcommand)]
        cmd: VendorCmd,
    },
    /// The e-mail channel: what ingestion would do with a message.
    Mail {
        #[command(subcommand)]
        cmd: MailCmd,
    },
    /// Purchase orders placed through the Amazon Business Ordering API.
    Order {
        #[command(subcommand)]
        cmd: OrderCmd,
    },
    /// The daily Amazon Business import of a company: run a pass now, or see where it stands.
    Import {
        #[command(subcommand)]
        cmd: ImportCmd,
    },
    /// Local development: create the table and bucket on the local stack.
    Local {
        #[command(subcommand)]
        cmd: LocalCmd,
    },
}

/// The company a listing is about (`_unassigned` for documents of no company).
#[derive(clap::Args)]
struct CompanyArg {
    #[arg(long, env = "INVOICE_BRIDGE_COMPANY")]
    company: String,
}

#[derive(Subcommand)]
enum CompanyCmd {
    /// Create a company with the cXML identities it receives invoices as (To credentials).
    Create {
        id: String,
        #[arg(long)]
        name: String,
        /// DOMAIN:IDENTITY, e.g. NetworkID:AN01000000001 (repeatable; one company per identity).
        #[arg(long = "cxml-identity")]
        cxml_identities: Vec<String>,
    },
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    /// Set the company's e-mail channel: invoice addresses (one company each), allowed senders.
    SetMail {
        id: String,
        /// An invoice address SES receives for the company (repeatable).
        #[arg(long = "address", required = true)]
        addresses: Vec<String>,
        /// Allowed sender address or domain (repeatable).
        #[arg(long)]
        allow: Vec<String>,
        /// GRAY (undecided) verdicts pass.
        #[arg(long)]
        gray_passes: bool,
    },
    /// How the dashboard shows the company's dates and amounts: en-US (the default), en-GB, fr-FR.
    SetLocale { id: String, locale: String },
    /// Which suppliers (cXML `From` identities) may POST invoices for the company over HTTPS:
    /// `--any` (the default for a new company) or only those given with `--accept`.
    SetSuppliers {
        id: String,
        /// Accept any supplier.
        #[arg(long, conflicts_with = "accept", required_unless_present = "accept")]
        any: bool,
        /// An accepted supplier identity, DOMAIN:IDENTITY (repeatable; replaces the list).
        #[arg(long)]
        accept: Vec<String>,
    },
    /// Set how far an invoice may differ from its PO and still match: a JSON file
    /// `{"unit_price": {"absolute", "percent", "rule": "either"|"both"}, "quantity": {…}, "amount": {…}}`
    /// (each optional; absent ones take the defaults).
    SetTolerances { id: String, file: PathBuf },
    /// Connect the company's Amazon Business account (ordering, invoice import): its region
    /// and LWA refresh token (read from stdin, stored in Secrets Manager).
    ConnectAmazonBusiness {
        id: String,
        /// NA, EU or JP.
        #[arg(long)]
        region: String,
        /// Read the refresh token from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        refresh_token_stdin: bool,
        /// The first invoice date imported, YYYY-MM-DD: from 30 days before today (the
        /// connection date) to today. Default: the connection date.
        #[arg(long, value_name = "YYYY-MM-DD")]
        start_date: Option<String>,
        /// Import the company's Amazon Business invoices automatically every day.
        #[arg(long, value_name = "on|off", default_value = "on", value_parser = ["on", "off"])]
        auto_import: String,
    },
    /// Change the daily Amazon Business import of a connected company: the toggle, the start
    /// date (at most 30 days before the connection, not after today; moving it back
    /// re-imports from there), and the businessOrderInfo keys of the GL code and cost centre.
    #[command(group(clap::ArgGroup::new("setting").required(true).multiple(true)))]
    SetImport {
        id: String,
        #[arg(long, value_name = "on|off", value_parser = ["on", "off"], group = "setting")]
        auto_import: Option<String>,
        /// YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD", group = "setting")]
        start_date: Option<String>,
        /// The businessOrderInfo key of a line's GL code (e.g. "GL code"; "" for none).
        #[arg(long, value_name = "NAME", group = "setting")]
        gl_key: Option<String>,
        /// The businessOrderInfo key of a line's cost centre ("" for none).
        #[arg(long, value_name = "NAME", group = "setting")]
        cost_center_key: Option<String>,
    },
    /// Store the company's SP-API refresh token (read from stdin) in Secrets Manager.
    ConnectVendor {
        id: String,
        /// Read the refresh token from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        refresh_token_stdin: bool,
    },
    /// Register a cXML sender allowed to POST documents for the company over HTTPS: its
    /// Sender identity and SharedSecret (read from stdin, stored only as an argon2id hash).
    /// The same identity again replaces its secret.
    AddSender {
        id: String,
        /// The Sender credential, DOMAIN:IDENTITY (e.g. NetworkID:AN01000000099).
        #[arg(long)]
        identity: String,
        /// Read the SharedSecret from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        secret_stdin: bool,
    },
}

#[derive(Subcommand)]
enum MailCmd {
    /// Offline: verdicts, sender rule, attachments (kind by bytes, invoice number, cXML check)
    /// and whether ingest-mail would accept the message. Exit 0 accepted, 1 quarantined, 2 unreadable.
    Inspect {
        file: PathBuf,
        /// Allowed sender address or domain (repeatable).
        #[arg(long)]
        allow: Vec<String>,
        /// GRAY (undecided) verdicts pass.
        #[arg(long)]
        gray_passes: bool,
        /// Use this company's stored settings instead (TABLE_NAME).
        #[arg(long)]
        company: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum OrderCmd {
    /// Offline: validate a PO (JSON) and print {"ok", "errors": [{"code", "message"}], "body"}
    /// with the exact placeOrder body. Exit 0 built, 1 refused, 2 unreadable or not a PO.
    Build { po: PathBuf },
}

#[derive(Subcommand)]
enum QuarantineCmd {
    /// List a company's rejected documents, newest first.
    List {
        #[command(flatten)]
        company: CompanyArg,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

#[derive(Subcommand)]
enum DocumentsCmd {
    /// List a company's documents, newest first (GSI2 per company and status; no Scan).
    List {
        #[command(flatten)]
        company: CompanyArg,
        /// Only the documents awaiting their invoice's data.
        #[arg(long)]
        awaiting: bool,
        /// One JSON object per document per line.
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

#[derive(Subcommand)]
enum InvoicesCmd {
    /// List a company's invoices by status (Valid, Cancelled), newest first.
    List {
        #[command(flatten)]
        company: CompanyArg,
        #[arg(long, default_value = "Valid")]
        status: String,
        /// One JSON object per invoice per line.
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// A company's invoices referring to a PO number.
    ByPo {
        #[command(flatten)]
        company: CompanyArg,
        po: String,
        #[arg(long)]
        json: bool,
    },
    /// A company's invoices whose match against their PO found exceptions (open: not Matched
    /// since), newest first, with every exception.
    Exceptions {
        #[command(flatten)]
        company: CompanyArg,
        /// One JSON object per invoice per line.
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// One of a company's invoices with its lines and entries.
    Show {
        #[command(flatten)]
        company: CompanyArg,
        /// `<supplier>#<invoiceID>`, e.g. `NetworkID:AN01011737571#1QX7ZK4MPL2T`.
        invoice_key: String,
    },
}

#[derive(Subcommand)]
enum ExportCmd {
    /// A company's journal entries with an accounting date from --from to --to (inclusive):
    /// bookings on their invoice date, reversals on the day their cancellation arrived.
    /// Exit 0 exported, 1 read/write error, 2 usage (dates, range, rate, unknown company).
    Entries {
        #[command(flatten)]
        company: CompanyArg,
        /// First accounting date, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last accounting date, YYYY-MM-DD (inclusive).
        #[arg(long)]
        to: String,
        #[arg(long, value_enum)]
        format: export::Format,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// FEC only: euros for one unit of a currency, CUR=RATE (e.g. USD=0.92; repeatable).
        /// Required for every currency other than the euro in the range.
        #[arg(long = "rate")]
        rates: Vec<String>,
    },
}

#[derive(Subcommand)]
enum VendorCmd {
    /// Offline: eligibility and the exact submitInvoices body for one order bundle (JSON).
    /// Exit 0 eligible and mapped, 1 ineligible or mapping error, 2 usage / unreadable.
    Preview { bundle: PathBuf },
    /// Queue a company's orders for submission (one SQS message per order: {"company", "order_id"}).
    Enqueue {
        #[command(flatten)]
        company: CompanyArg,
        #[arg(required = true)]
        order_ids: Vec<String>,
        #[arg(long, env = "VENDOR_QUEUE_URL")]
        queue_url: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Local development: store an order bundle (order, account, sellers, locations,
    /// delivery locations) in the table.
    Seed {
        #[command(flatten)]
        company: CompanyArg,
        bundle: PathBuf,
        #[arg(long, default_value = "ACC-1")]
        account_id: String,
        /// Store N copies of the order, with ids `<id>-00001` … (load tests).
        #[arg(long)]
        copies: Option<u32>,
        /// Store the order under this id instead of the bundle's.
        #[arg(long)]
        order_id: Option<String>,
    },
    /// Invoice, Marketplace Feed and Order Errors of orders (JSON, one line per order);
    /// without ORDER_IDs, of every order whose feed is still Processing (oldest first).
    Status {
        #[command(flatten)]
        company: CompanyArg,
        order_ids: Vec<String>,
    },
    /// Run one polling pass (getTransaction for every Processing feed) against the configured
    /// SP-API endpoint and print its report.
    Poll {
        /// Only this company (default: every company with a vendor connection).
        #[arg(long)]
        company: Option<String>,
        /// Stop after this many seconds (the next pass carries on).
        #[arg(long, default_value_t = 600)]
        max_seconds: u64,
    },
    /// Local development: poll the queue and run the real submit-vendor-invoice handler on
    /// each batch (what Lambda's SQS event source mapping does on AWS).
    Work {
        #[arg(long, env = "VENDOR_QUEUE_URL")]
        queue_url: String,
        /// Stop after three empty polls.
        #[arg(long)]
        until_empty: bool,
        #[arg(long, default_value_t = 600)]
        max_seconds: u64,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// One import pass against the configured endpoint (AB_ENDPOINT locally), then the PDF
    /// reports the document rate allows; prints what it did as JSON. Exit 0 done (or out of
    /// time: the next pass goes on), 1 Amazon said later, 3 Amazon refused the credentials.
    Run {
        #[command(flatten)]
        company: CompanyArg,
        /// Read the feed up to the end of this day (YYYY-MM-DD) instead of now.
        #[arg(long)]
        until: Option<String>,
        /// Stop before this many seconds (the cursor is saved after every page).
        #[arg(long, default_value_t = 600)]
        max_seconds: u64,
        /// Skip the PDF reports (they are fetched by later passes).
        #[arg(long)]
        no_pdfs: bool,
    },
    /// Where the company's import stands: watermark, run in progress, last pass, open PDFs,
    /// what a person must look at.
    Status {
        #[command(flatten)]
        company: CompanyArg,
    },
}

#[derive(Subcommand)]
enum LocalCmd {
    /// Upload documents under a prefix (as a supplier's drop would) and print the S3
    /// ObjectCreated event for them, ready for `cargo lambda invoke ingest-cxml --data-file`;
    /// with --ingest, run the real ingestion handler on that event and print each outcome.
    Drop {
        #[arg(long, env = "BUCKET")]
        bucket: String,
        #[arg(long, default_value = "incoming/")]
        prefix: String,
        /// Drop under `<prefix><company>/` (else the To identity decides).
        #[arg(long)]
        company: Option<String>,
        /// Ingest in process (TABLE_NAME and the ingestion settings from the environment).
        #[arg(long)]
        ingest: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Create the table (with its indexes) and the document bucket if missing.
    Init {
        #[arg(long, env = "TABLE_NAME")]
        table: String,
        #[arg(long, env = "BUCKET")]
        bucket: String,
        /// Also create this SQS queue (and `<name>-dlq`, maxReceiveCount 5) for vendor
        /// submissions; its URL is printed as VENDOR_QUEUE_URL=...
        #[arg(long)]
        vendor_queue: Option<String>,
        /// Also create this Secrets Manager secret holding a random HMAC key for the dashboard
        /// (kept if it exists); printed as DASHBOARD_SECRET_ID=...
        #[arg(long)]
        dashboard_secret: Option<String>,
    },
}

fn main() -> ExitCode {
    // Behave like other Unix tools when the reader of our output goes away
    // (`invoicectl ... | head`): end quietly instead of panicking on a broken pipe.
    // SAFETY: called first, before any other thread exists; restores the default action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let code = match cli.cmd {
        Cmd::Check { json, max_bytes, max_depth, files } => {
            let limits = Limits { max_bytes, max_depth };
            check::run_on_stdio(&files, json, &limits)
        }
        Cmd::Match { invoice, po, placed, tolerances, json } => matching::run(&matching::Args {
            invoice: &invoice,
            po: &po,
            placed: placed.as_deref(),
            tolerances: tolerances.as_deref(),
            json,
        }),
        Cmd::Export { cmd: ExportCmd::Entries { company, from, to, format, output, rates } } => {
            export::run(export::Args { company: company.company, from, to, format, output, rates })
        }
        Cmd::Vendor { cmd: VendorCmd::Preview { bundle } } => vendor_preview(&bundle),
        Cmd::Vendor { cmd: VendorCmd::Enqueue { company, order_ids, queue_url, reason } } => {
            vendor::run(vendor::Op::Enqueue { company: company.company, order_ids, queue_url, reason })
        }
        Cmd::Vendor { cmd: VendorCmd::Seed { company, bundle, account_id, copies, order_id } } => {
            vendor::run(vendor::Op::Seed { company: company.company, bundle, account_id, copies, order_id })
        }
        Cmd::Vendor { cmd: VendorCmd::Status { company, order_ids } } => {
            vendor::run(vendor::Op::Status { company: company.company, order_ids })
        }
        Cmd::Vendor { cmd: VendorCmd::Poll { company, max_seconds } } => vendor::run(vendor::Op::Poll { company, max_seconds }),
        Cmd::Vendor { cmd: VendorCmd::Work { queue_url, until_empty, max_seconds } } => {
            vendor::run(vendor::Op::Work { queue_url, until_empty, max_seconds })
        }
        Cmd::Mail { cmd: MailCmd::Inspect { file, allow, gray_passes, company, json } } => {
            mail::inspect(&file, company, allow, gray_passes, json)
        }
        Cmd::Order { cmd: OrderCmd::Build { po } } => order::build_po(&po),
        Cmd::Company { cmd: CompanyCmd::SetMail { id, addresses, allow, gray_passes } } => {
            mail::set_mail(id, addresses, allow, gray_passes)
        }
        Cmd::Company { cmd } => company::run(match cmd {
            CompanyCmd::Create { id, name, cxml_identities } => company::Op::Create { id, name, identities: cxml_identities },
            CompanyCmd::Show { id, json } => company::Op::Show { id, json },
            CompanyCmd::List { json } => company::Op::List { json },
            CompanyCmd::ConnectVendor { id, refresh_token_stdin: _ } => company::Op::ConnectVendor { id },
            CompanyCmd::ConnectAmazonBusiness { id, region, refresh_token_stdin: _, start_date, auto_import } => {
                company::Op::ConnectBusiness { id, region, start_date, auto_import: Some(auto_import) }
            }
            CompanyCmd::SetImport { id, auto_import, start_date, gl_key, cost_center_key } => {
                company::Op::SetImport { id, args: company::ImportArgs { auto_import, start_date, gl_key, cost_center_key } }
            }
            CompanyCmd::SetMail { .. } => unreachable!("handled above"),
            CompanyCmd::AddSender { id, identity, secret_stdin: _ } => company::Op::AddSender { id, identity },
            CompanyCmd::SetTolerances { id, file } => company::Op::SetTolerances { id, file },
            CompanyCmd::SetLocale { id, locale } => company::Op::SetLocale { id, locale },
            CompanyCmd::SetSuppliers { id, any, accept } => company::Op::SetSuppliers { id, accept: (!any).then_some(accept) },
        }),
        Cmd::Quarantine { cmd: QuarantineCmd::List { company, json, limit } } => {
            store::run(store::Op::QuarantineList { company: company.company, json, limit })
        }
        Cmd::Documents { cmd: DocumentsCmd::List { company, awaiting, json, limit } } => {
            store::run(store::Op::DocumentsList { company: company.company, awaiting, json, limit })
        }
        Cmd::Invoices { cmd } => store::run(match cmd {
            InvoicesCmd::List { company, status, json, limit } => store::Op::InvoicesList { company: company.company, status, json, limit },
            InvoicesCmd::ByPo { company, po, json } => store::Op::ByPo { company: company.company, po, json },
            InvoicesCmd::Show { company, invoice_key } => store::Op::Show { company: company.company, invoice_key },
            InvoicesCmd::Exceptions { company, json, limit } => store::Op::Exceptions { company: company.company, json, limit },
        }),
        Cmd::Import { cmd: ImportCmd::Run { company, until, max_seconds, no_pdfs } } => {
            import::run(import::Op::Run { company: company.company, until, max_seconds, pdfs: !no_pdfs })
        }
        Cmd::Import { cmd: ImportCmd::Status { company } } => import::run(import::Op::Status { company: company.company }),
        Cmd::Local { cmd: LocalCmd::Init { table, bucket, vendor_queue, dashboard_secret } } => {
            store::run(store::Op::LocalInit { table, bucket, vendor_queue, dashboard_secret })
        }
        Cmd::Local { cmd: LocalCmd::Drop { bucket, prefix, company, ingest, files } } => {
            store::run(store::Op::LocalDrop { bucket, prefix, company, ingest, files })
        }
    };
    ExitCode::from(code as u8)
}

fn vendor_preview(path: &PathBuf) -> i32 {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("invoicectl: cannot read {}: {e}", path.display());
            return 2;
        }
    };
    let bundle: invoice_domain::vendor::records::Bundle = match serde_json::from_slice(&bytes) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("invoicectl: {} is not a valid order bundle: {e}", path.display());
            return 2;
        }
    };
    let p = invoice_domain::vendor::mapping::preview(&bundle);
    match serde_json::to_string_pretty(&p) {
        Ok(s) => println!("{s}"),
        Err(e) => {
            eprintln!("invoicectl: {e}");
            return 2;
        }
    }
    if p.eligible && p.errors.is_empty() && p.payload.is_some() {
        0
    } else {
        1
    }
}

/// Runs a command's async body on a runtime: exit 0 on success, 1 with the error on stderr,
/// 2 when no runtime can be started.
/// Runs a future that yields a value on a fresh runtime.
fn block_on_value<T>(fut: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("runtime: {e}"))?.block_on(fut)
}

fn block_on(fut: impl std::future::Future<Output = Result<(), String>>) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("invoicectl: cannot start runtime: {e}");
            return 2;
        }
    };
    match rt.block_on(fut) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("invoicectl: {e}");
            1
        }
    }
}
