//! `spapi-emulator`: serves the local SP-API + LWA emulator (see the library docs).
//! Prints `listening on http://<host>:<port>` on stdout once bound; logs JSON to stderr.

use std::io::Write;
use std::time::Duration;

use clap::Parser;
use spapi_emulator::{serve, App, Config};

#[derive(Debug, Parser)]
#[command(
    name = "spapi-emulator",
    version,
    about = "Local SP-API (vendor invoices, transaction status), Amazon Business (ordering, reconciliation, documents) + LWA emulator"
)]
struct Cli {
    /// Address to bind.
    #[arg(long, env = "SPAPI_EMULATOR_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to bind; 0 picks a free one.
    #[arg(long, env = "SPAPI_EMULATOR_PORT", default_value_t = 0)]
    port: u16,
    #[arg(long, env = "LWA_CLIENT_ID", default_value = spapi_emulator::DEFAULT_CLIENT_ID)]
    client_id: String,
    #[arg(long, env = "LWA_CLIENT_SECRET", default_value = spapi_emulator::DEFAULT_CLIENT_SECRET, hide_env_values = true)]
    client_secret: String,
    #[arg(long, env = "LWA_REFRESH_TOKEN", default_value = spapi_emulator::DEFAULT_REFRESH_TOKEN, hide_env_values = true)]
    refresh_token: String,
    /// Lifetime of issued access tokens, seconds.
    #[arg(long, env = "SPAPI_EMULATOR_TOKEN_EXPIRES_IN", default_value_t = 3600)]
    token_expires_in: u64,
    /// getTransaction answers Processing this many times before Success/Failure.
    #[arg(long, env = "SPAPI_EMULATOR_PROCESSING_POLLS", default_value_t = 1)]
    processing_polls: u32,
    /// submitInvoices rate limit, requests per second.
    #[arg(long, default_value_t = 10.0)]
    submit_rate: f64,
    #[arg(long, default_value_t = 10.0)]
    submit_burst: f64,
    /// getTransaction rate limit, requests per second.
    #[arg(long, default_value_t = 10.0)]
    get_transaction_rate: f64,
    #[arg(long, default_value_t = 20.0)]
    get_transaction_burst: f64,
    /// Request bodies larger than this get 413.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_body_bytes: usize,
    /// How long a `stall_next` request hangs before its connection is closed, seconds.
    #[arg(long, default_value_t = 600)]
    stall_secs: u64,
    /// placeOrder rate limit (Amazon Business usage plan: 0.5/s, burst 10).
    #[arg(long, default_value_t = 0.5)]
    place_order_rate: f64,
    #[arg(long, default_value_t = 10.0)]
    place_order_burst: f64,
    /// orderDetails rate limit (Amazon Business usage plan: 0.5/s, burst 10).
    #[arg(long, default_value_t = 0.5)]
    order_details_rate: f64,
    #[arg(long, default_value_t = 10.0)]
    order_details_burst: f64,
    /// Sales tax of accepted order items, percent.
    #[arg(long, default_value = "8")]
    order_tax_rate: String,
    /// Shipping charged per accepted order item.
    #[arg(long, default_value = "0.00")]
    order_shipping: String,
    /// Unit price of an item with neither an ExpectedUnitPrice nor a catalogue price.
    #[arg(long, default_value = "10.00")]
    order_default_unit_price: String,
    /// Days from an order to its delivery window.
    #[arg(long, default_value_t = 2)]
    order_delivery_days: u32,
    /// Bucket the e-invoices are also put into (incoming/<company>/amazon-business/<id>.xml).
    #[arg(long, env = "EMULATOR_S3_BUCKET")]
    s3_bucket: Option<String>,
    /// S3 endpoint (path-style); default: AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS.
    #[arg(long)]
    s3_endpoint: Option<String>,
    /// Amazon Business getTransactions rate limit (usage plan: 2/s, burst 10).
    #[arg(long, default_value_t = 2.0)]
    get_transactions_rate: f64,
    #[arg(long, default_value_t = 10.0)]
    get_transactions_burst: f64,
    /// getInvoiceDetailsByOrderLineItems rate limit (usage plan: 2/s, burst 10).
    #[arg(long, default_value_t = 2.0)]
    invoice_details_rate: f64,
    #[arg(long, default_value_t = 10.0)]
    invoice_details_burst: f64,
    /// getBatchInvoicePaymentDetails rate limit (usage plan: 2/s, burst 10).
    #[arg(long, default_value_t = 2.0)]
    payment_details_rate: f64,
    #[arg(long, default_value_t = 10.0)]
    payment_details_burst: f64,
    /// Transactions per getTransactions page.
    #[arg(long, default_value_t = 5)]
    transactions_page_size: usize,
    /// createReport rate limit (Amazon Business: 0.0167/s, burst 15).
    #[arg(long, default_value_t = 0.0167)]
    create_report_rate: f64,
    #[arg(long, default_value_t = 15.0)]
    create_report_burst: f64,
    /// getReport rate limit (not stated by Amazon Business; SP-API Reports: 2/s, burst 15).
    #[arg(long, default_value_t = 2.0)]
    get_report_rate: f64,
    #[arg(long, default_value_t = 15.0)]
    get_report_burst: f64,
    /// cancelReport rate limit (not stated; SP-API Reports: 0.0222/s, burst 10).
    #[arg(long, default_value_t = 0.0222)]
    cancel_report_rate: f64,
    #[arg(long, default_value_t = 10.0)]
    cancel_report_burst: f64,
    /// getReportDocument rate limit (Amazon Business: 0.0167/s, burst 15).
    #[arg(long, default_value_t = 0.0167)]
    get_report_document_rate: f64,
    #[arg(long, default_value_t = 15.0)]
    get_report_document_burst: f64,
    /// getReport answers IN_QUEUE / IN_PROGRESS this many times before the final status.
    #[arg(long, default_value_t = 2)]
    report_processing_polls: u32,
    /// How long a report document URL is valid, seconds (Amazon: 300).
    #[arg(long, default_value_t = 300)]
    document_url_ttl_secs: u64,
    /// Report documents are GZIP unless seeded otherwise.
    #[arg(long)]
    document_gzip: bool,
    /// Base of report document URLs (default: the Host the request came to).
    #[arg(long)]
    document_base_url: Option<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let cli = Cli::parse();
    for (name, rate, burst) in [
        ("submit", cli.submit_rate, cli.submit_burst),
        ("get-transaction", cli.get_transaction_rate, cli.get_transaction_burst),
        ("place-order", cli.place_order_rate, cli.place_order_burst),
        ("order-details", cli.order_details_rate, cli.order_details_burst),
        ("get-transactions", cli.get_transactions_rate, cli.get_transactions_burst),
        ("invoice-details", cli.invoice_details_rate, cli.invoice_details_burst),
        ("payment-details", cli.payment_details_rate, cli.payment_details_burst),
        ("create-report", cli.create_report_rate, cli.create_report_burst),
        ("get-report", cli.get_report_rate, cli.get_report_burst),
        ("cancel-report", cli.cancel_report_rate, cli.cancel_report_burst),
        ("get-report-document", cli.get_report_document_rate, cli.get_report_document_burst),
    ] {
        if !(rate > 0.0 && burst >= 1.0) {
            eprintln!("spapi-emulator: --{name}-rate must be > 0 and --{name}-burst >= 1");
            std::process::exit(64);
        }
    }
    let config = Config {
        client_id: cli.client_id,
        client_secret: cli.client_secret,
        refresh_token: cli.refresh_token,
        token_expires_in: cli.token_expires_in,
        processing_polls: cli.processing_polls,
        submit_rate: cli.submit_rate,
        submit_burst: cli.submit_burst,
        get_transaction_rate: cli.get_transaction_rate,
        get_transaction_burst: cli.get_transaction_burst,
        max_body_bytes: cli.max_body_bytes,
        stall: Duration::from_secs(cli.stall_secs),
        place_order_rate: cli.place_order_rate,
        place_order_burst: cli.place_order_burst,
        order_details_rate: cli.order_details_rate,
        order_details_burst: cli.order_details_burst,
        order_tax_rate: cli.order_tax_rate,
        order_shipping: cli.order_shipping,
        order_default_unit_price: cli.order_default_unit_price,
        order_delivery_days: cli.order_delivery_days,
        s3_bucket: cli.s3_bucket.filter(|b| !b.is_empty()),
        s3_endpoint: cli
            .s3_endpoint
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .filter(|e| !e.is_empty()),
        get_transactions_rate: cli.get_transactions_rate,
        get_transactions_burst: cli.get_transactions_burst,
        invoice_details_rate: cli.invoice_details_rate,
        invoice_details_burst: cli.invoice_details_burst,
        payment_details_rate: cli.payment_details_rate,
        payment_details_burst: cli.payment_details_burst,
        transactions_page_size: cli.transactions_page_size,
        create_report_rate: cli.create_report_rate,
        create_report_burst: cli.create_report_burst,
        get_report_rate: cli.get_report_rate,
        get_report_burst: cli.get_report_burst,
        cancel_report_rate: cli.cancel_report_rate,
        cancel_report_burst: cli.cancel_report_burst,
        get_report_document_rate: cli.get_report_document_rate,
        get_report_document_burst: cli.get_report_document_burst,
        report_processing_polls: cli.report_processing_polls,
        document_url_ttl: Duration::from_secs(cli.document_url_ttl_secs),
        document_gzip: cli.document_gzip,
        document_base_url: cli.document_base_url.filter(|b| !b.is_empty()),
    };
    if let Err(e) = spapi_emulator::check_config(&config) {
        eprintln!("spapi-emulator: {e}");
        std::process::exit(64);
    }

    let listener = tokio::net::TcpListener::bind((cli.host.as_str(), cli.port)).await?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    tracing::info!(%addr, "spapi-emulator listening");

    let app = App::new(config);
    tokio::select! {
        res = serve(listener, app) => res,
        _ = shutdown_signal() => {
            tracing::info!("shutting down");
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
