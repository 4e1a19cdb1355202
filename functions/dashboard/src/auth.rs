//! Who is asking, from a verified ID token's claims only (pure, no I/O): the principal, the
//! PKCE pair of the sign-in, CSRF tokens derived from the session, cookies.
//!
//! The claims contract (Cognito's ID token; the local stand-in issuer signs the same):
//! `iss` = `AUTH_ISSUER`, `aud` = `AUTH_CLIENT_ID`, `token_use` = `id`, `exp`, `sub`, `email`,
//! `custom:company` (a company id) and `custom:role` (`viewer` | `approver`). The company and
//! the role are never read from anywhere else (URL, query, form).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// A verified ID token's claims (`iss`, `aud`, `exp` are checked by the verifier).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub token_use: Option<String>,
    #[serde(rename = "custom:company", default)]
    pub company: Option<String>,
    #[serde(rename = "custom:role", default)]
    pub role: Option<String>,
    pub exp: u64,
    #[serde(default)]
    pub iat: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Viewer,
    Approver,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Approver => "approver",
        }
    }
}

/// The signed-in person: their company and role, from the token alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub sub: String,
    pub email: Option<String>,
    pub company: String,
    pub role: Role,
    /// The token's expiry (seconds since the epoch).
    pub exp: u64,
}

impl Principal {
    pub fn can_act(&self) -> bool {
        self.role == Role::Approver
    }

    /// Who did it, as the history shows it.
    pub fn name(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.sub)
    }
}

/// Why a verified token gives no access to any company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    NotAnIdToken,
    NoCompany,
    BadCompany,
    NoRole,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refused::NotAnIdToken => "the token is not an ID token",
            Refused::NoCompany => "your account belongs to no company: ask your administrator to set its company",
            Refused::BadCompany => "your account's company is not a valid company id",
            Refused::NoRole => "your account has no dashboard role (viewer or approver): ask your administrator",
        })
    }
}

/// The principal of verified claims.
pub fn principal(c: &Claims) -> Result<Principal, Refused> {
    if c.token_use.as_deref() != Some("id") {
        return Err(Refused::NotAnIdToken);
    }
    let company = c.company.as_deref().map(str::trim).filter(|s| !s.is_empty()).ok_or(Refused::NoCompany)?;
    if invoice_domain::company::id_problem(company).is_some() || company == invoice_domain::company::UNASSIGNED {
        return Err(Refused::BadCompany);
    }
    let role = match c.role.as_deref().map(str::trim) {
        Some("viewer") => Role::Viewer,
        Some("approver") => Role::Approver,
        _ => return Err(Refused::NoRole),
    };
    Ok(Principal { sub: c.sub.clone(), email: c.email.clone(), company: company.to_string(), role, exp: c.exp })
}

/// `n` random bytes, base64url: PKCE verifiers, states.
pub fn random_token(n: usize) -> String {
    let mut b = vec![0u8; n];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).expect("system randomness");
    URL_SAFE_NO_PAD.encode(b)
}

/// The PKCE S256 challenge of a verifier (RFC 7636): base64url(SHA-256(verifier)).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// True for a verifier RFC 7636 allows (43–128 of `A-Z a-z 0-9 - . _ ~`).
pub fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The server's key for CSRF tokens and cursors (HMAC-SHA256).
#[derive(Clone)]
pub struct Keys {
    key: hmac::Key,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

impl Keys {
    pub fn new(secret: &[u8]) -> Keys {
        Keys { key: hmac::Key::new(hmac::HMAC_SHA256, secret) }
    }

    pub fn sign(&self, purpose: &str, data: &[u8]) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(purpose.as_bytes());
        ctx.update(&[0]);
        ctx.update(data);
        URL_SAFE_NO_PAD.encode(ctx.sign().as_ref())
    }

    /// Constant-time check of [`Keys::sign`]'s output.
    pub fn verify(&self, purpose: &str, data: &[u8], tag: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else { return false };
        let mut msg = purpose.as_bytes().to_vec();
        msg.push(0);
        msg.extend_from_slice(data);
        hmac::verify(&self.key, &msg, &tag).is_ok()
    }

    /// The CSRF token of a session: an HMAC of the session's token (its hash), so it changes
    /// with every sign-in and cannot be made without the server's key.
    pub fn csrf(&self, session_token: &str) -> String {
        self.sign("csrf", &Sha256::digest(session_token.as_bytes()))
    }

    pub fn csrf_ok(&self, session_token: &str, given: &str) -> bool {
        !given.is_empty() && self.verify("csrf", &Sha256::digest(session_token.as_bytes()), given)
    }
}

pub const SESSION_COOKIE: &str = "ib_session";
pub const PKCE_COOKIE: &str = "ib_pkce";

/// One cookie's value from a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').map(str::trim).find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v))
}

/// A `Set-Cookie` value: `Secure; HttpOnly; SameSite=Lax`, for `max_age` seconds.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: u64) -> String {
    format!("{name}={value}; Path={path}; Max-Age={max_age}; Secure; HttpOnly; SameSite=Lax")
}

/// The cookie removed.
pub fn clear_cookie(name: &str, path: &str) -> String {
    format!("{name}=; Path={path}; Max-Age=0; Secure; HttpOnly; SameSite=Lax")
}

/// The sign-in's pending state, kept in the short-lived PKCE cookie: `<state>.<verifier>.<next>`
/// (next base64url). `next` is only ever a local path.
pub fn pkce_cookie_value(state: &str, verifier: &str, next: &str) -> String {
    format!("{state}.{verifier}.{}", URL_SAFE_NO_PAD.encode(local_path(next).as_bytes()))
}

/// `(state, verifier, next)` of a PKCE cookie.
pub fn parse_pkce_cookie(v: &str) -> Option<(String, String, String)> {
    let mut it = v.splitn(3, '.');
    let (state, verifier, next) = (it.next()?, it.next()?, it.next()?);
    let next = String::from_utf8(URL_SAFE_NO_PAD.decode(next).ok()?).ok()?;
    (valid_verifier(verifier) && !state.is_empty()).then(|| (state.to_string(), verifier.to_string(), local_path(&next).to_string()))
}

/// `p` if it is a path on this site (`/…`, not `//…`, no backslash or control characters),
/// else `/invoices`: a sign-in never redirects elsewhere.
pub fn local_path(p: &str) -> &str {
    let ok = p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.chars().any(char::is_control) && p.len() <= 2000;
    if ok {
        p
    } else {
        "/invoices"
    }
}

/// Constant-time string equality (states).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            sub: "u1".into(),
            email: Some("ap@acme.example".into()),
            token_use: Some("id".into()),
            company: Some("acme".into()),
            role: Some("approver".into()),
            exp: 1,
            iat: None,
        }
    }

    #[test]
    fn company_and_role_come_from_the_claims() {
        let p = principal(&claims()).unwrap();
        assert_eq!((p.company.as_str(), p.role), ("acme", Role::Approver));
        assert!(p.can_act());
        let viewer = principal(&Claims { role: Some("viewer".into()), ..claims() }).unwrap();
        assert!(!viewer.can_act());
        assert_eq!(principal(&Claims { role: Some("admin".into()), ..claims() }), Err(Refused::NoRole));
        assert_eq!(principal(&Claims { role: None, ..claims() }), Err(Refused::NoRole));
        assert_eq!(principal(&Claims { company: None, ..claims() }), Err(Refused::NoCompany));
        assert_eq!(principal(&Claims { company: Some("Acme#x".into()), ..claims() }), Err(Refused::BadCompany));
        assert_eq!(principal(&Claims { company: Some("_unassigned".into()), ..claims() }), Err(Refused::BadCompany));
        assert_eq!(principal(&Claims { token_use: Some("access".into()), ..claims() }), Err(Refused::NotAnIdToken));
    }

    #[test]
    fn pkce_is_rfc7636() {
        // RFC 7636 appendix B.
        assert_eq!(pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let v = random_token(32);
        assert!(valid_verifier(&v), "{v}");
        assert!(!valid_verifier("short"));
        let c = pkce_cookie_value("st", &v, "/invoices?status=approved");
        assert_eq!(parse_pkce_cookie(&c), Some(("st".into(), v.clone(), "/invoices?status=approved".into())));
        let evil = pkce_cookie_value("st", &v, "//evil.example/");
        assert_eq!(parse_pkce_cookie(&evil).unwrap().2, "/invoices");
        assert_eq!(local_path("https://evil.example"), "/invoices");
        assert_eq!(local_path("/\\evil"), "/invoices");
    }

    #[test]
    fn csrf_is_bound_to_the_session_and_the_key() {
        let k = Keys::new(b"0123456789abcdef0123456789abcdef");
        let t = k.csrf("token-a");
        assert!(k.csrf_ok("token-a", &t));
        assert!(!k.csrf_ok("token-b", &t));
        assert!(!k.csrf_ok("token-a", ""));
        assert!(!k.csrf_ok("token-a", "not base64 !"));
        assert!(!Keys::new(b"another key another key another k").csrf_ok("token-a", &t));
    }

    #[test]
    fn cookies() {
        assert_eq!(cookie("a=1; ib_session=xyz; b=2", SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie("a=1", SESSION_COOKIE), None);
        let c = set_cookie(SESSION_COOKIE, "v", "/", 60);
        assert!(c.contains("Secure") && c.contains("HttpOnly") && c.contains("SameSite=Lax"), "{c}");
    }
}
