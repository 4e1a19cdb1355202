//! `local-issuer --port 9700 --client-id dashboard-local`: the local stack's sign-in.

use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 0)]
    port: u16,
    #[arg(long, default_value = "dashboard-local")]
    client_id: String,
    /// Test users (JSON list of {sub, email, name, company, role}).
    #[arg(long, default_value = "infra/issuer/users.json")]
    users: String,
    #[arg(long, default_value = "tests/fixtures/dashboard/issuer-key.pem")]
    key: String,
    #[arg(long, default_value = "tests/fixtures/dashboard/issuer-jwks.json")]
    jwks: String,
    #[arg(long, default_value = "test-key-1")]
    kid: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = Args::parse();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", a.port)).await?;
    let issuer = format!("http://{}", listener.local_addr()?);
    let config = local_issuer::Config {
        issuer: issuer.clone(),
        client_id: a.client_id,
        kid: a.kid,
        key: jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(&a.key)?)?,
        jwks: serde_json::from_slice(&std::fs::read(&a.jwks)?)?,
        users: serde_json::from_slice(&std::fs::read(&a.users)?)?,
    };
    // The env contract of the dashboard, for `. <(local-issuer ...)`-style wiring.
    println!("AUTH_ISSUER={issuer}");
    println!("AUTH_JWKS_URL={issuer}/.well-known/jwks.json");
    println!("AUTH_AUTHORIZE_URL={issuer}/oauth2/authorize");
    println!("AUTH_TOKEN_URL={issuer}/oauth2/token");
    println!("AUTH_CLIENT_ID={}", config.client_id);
    axum::serve(listener, local_issuer::router(config)).await?;
    Ok(())
}
