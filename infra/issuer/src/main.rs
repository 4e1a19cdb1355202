//! `local-issuer`: serves the local stand-in for the dashboard's Cognito user pool and hosted
//! sign-in (see the library docs). Prints `listening on http://<host>:<port>` on stdout once
//! bound; logs JSON to stderr (never a password or a token).

use std::io::Write;
use std::time::Duration;

use clap::Parser;
use local_issuer::{parse_users, serve, App, Config, SigningKey};

#[derive(Debug, Parser)]
#[command(
    name = "local-issuer",
    version,
    about = "Local stand-in for the dashboard's Cognito user pool + hosted sign-in (PKCE, RS256 ID tokens)"
)]
struct Cli {
    /// Address to bind.
    #[arg(long, env = "ISSUER_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to bind; 0 picks a free one.
    #[arg(long, env = "ISSUER_PORT", default_value_t = 0)]
    port: u16,
    /// Base URL the issuer is reached at (default: http://<host>:<bound port>).
    #[arg(long, env = "ISSUER_BASE_URL")]
    base_url: Option<String>,
    /// Pool id: the issuer (`iss`) is <base URL>/<pool id>, as Cognito's.
    #[arg(long, env = "ISSUER_POOL_ID", default_value = local_issuer::DEFAULT_POOL_ID)]
    pool_id: String,
    /// The app client's id (`aud` of the ID tokens).
    #[arg(long, env = "ISSUER_CLIENT_ID", default_value = local_issuer::DEFAULT_CLIENT_ID)]
    client_id: String,
    /// Users file: [{"username","password","email","company","role":"viewer"|"approver"}]
    /// (default: the committed infra/issuer/users.json).
    #[arg(long, env = "ISSUER_USERS_FILE")]
    users: Option<std::path::PathBuf>,
    /// An allowed callback URL (repeatable); none: any http URL on a loopback host.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// An allowed sign-out URL (repeatable); none: any http URL on a loopback host.
    #[arg(long = "logout-uri")]
    logout_uris: Vec<String>,
    /// RSA private key (PEM, PKCS#1 or PKCS#8); default: a new key at every start.
    #[arg(long, env = "ISSUER_KEY_FILE")]
    key_file: Option<std::path::PathBuf>,
    /// Lifetime of the ID and access tokens, seconds.
    #[arg(long, default_value_t = 3600)]
    token_ttl_secs: u64,
    /// Lifetime of an authorization code, seconds.
    #[arg(long, default_value_t = 300)]
    code_ttl_secs: u64,
    /// Do not show the test users' passwords on the sign-in page.
    #[arg(long)]
    hide_passwords: bool,
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("local-issuer: {msg}");
    std::process::exit(64);
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
    let users = match &cli.users {
        Some(path) => {
            let text = std::fs::read_to_string(path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
            parse_users(&text).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())))
        }
        None => parse_users(local_issuer::DEFAULT_USERS_JSON).unwrap_or_else(|e| fail(e)),
    };
    let key = match &cli.key_file {
        Some(path) => {
            let pem = std::fs::read(path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
            SigningKey::from_pem(&pem).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())))
        }
        None => SigningKey::generate().unwrap_or_else(|e| fail(e)),
    };
    if cli.pool_id.is_empty() || !cli.pool_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        fail("--pool-id: letters, digits, '_' and '-' only");
    }

    let listener = tokio::net::TcpListener::bind((cli.host.as_str(), cli.port)).await?;
    let addr = listener.local_addr()?;
    let base = cli.base_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let base = base.trim_end_matches('/').to_string();
    let mut config = Config::new(&base);
    config.issuer = format!("{base}/{}", cli.pool_id);
    config.client_id = cli.client_id;
    config.users = users;
    config.redirect_uris = cli.redirect_uris;
    config.logout_uris = cli.logout_uris;
    config.key = key;
    config.token_ttl = Duration::from_secs(cli.token_ttl_secs);
    config.code_ttl = Duration::from_secs(cli.code_ttl_secs);
    config.show_passwords = !cli.hide_passwords;
    let app = App::new(config);
    tracing::info!(issuer = %app.issuer(), client_id = %app.client_id(), kid = %app.config().key.kid(), users = app.config().users.len(), "issuer ready");

    println!("listening on http://{addr}");
    std::io::stdout().flush()?;
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    tokio::select! {
        r = serve(listener, app) => r,
        _ = shutdown => Ok(()),
    }
}
