//! SharedSecrets at rest and the sender rule. A secret is stored only as an argon2id PHC
//! string (salted, slow); verification is argon2's, whose final comparison is constant time.
//! An unknown sender costs the same slow hash as a known one with a wrong secret (against
//! [`dummy_hash`]), so neither the answer nor its timing tells them apart.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::company::{normalize_identity, Company, CxmlSender};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the shared secret must not be empty")]
    Empty,
    #[error("the shared secret is longer than {MAX_SECRET_LEN} characters")]
    TooLong,
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// Longest SharedSecret accepted (bounds the hashing work of a request).
pub const MAX_SECRET_LEN: usize = 256;

/// The argon2id PHC string of a secret with the given salt (the caller supplies 16 random
/// bytes: the domain takes no randomness itself). Default argon2id parameters (19 MiB, t=2).
pub fn hash_secret(secret: &str, salt: &[u8; 16]) -> Result<String, SecretError> {
    if secret.is_empty() {
        return Err(SecretError::Empty);
    }
    if secret.chars().count() > MAX_SECRET_LEN {
        return Err(SecretError::TooLong);
    }
    let salt = SaltString::encode_b64(salt).map_err(|e| SecretError::Hash(e.to_string()))?;
    Argon2::default().hash_password(secret.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| SecretError::Hash(e.to_string()))
}

/// Whether `secret` matches the PHC string (false for an unreadable hash).
pub fn verify_secret(secret: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    secret.chars().count() <= MAX_SECRET_LEN && Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok()
}

/// A hash no secret is expected to match, with the same parameters as real ones: verified
/// when the sender is unknown so that the work done is the same. It is
/// `hash_secret("invoice-bridge: no such sender", b"ib-dummy-salt-16")`, written out so that
/// no function spends a slow hash (≈ 60 ms) at cold start; a test keeps the two equal.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$aWItZHVtbXktc2FsdC0xNg$sIdySlp1rr+p8MexfmWhkAdROBM14c5/2/52GLBZnHE";

pub fn dummy_hash() -> String {
    DUMMY_HASH.to_string()
}

/// A new sender record for the company (identity normalised).
pub fn new_sender(identity: &str, secret: &str, salt: &[u8; 16], now: &str) -> Result<CxmlSender, SecretError> {
    Ok(CxmlSender { identity: identity.to_string(), secret_hash: hash_secret(secret, salt)?, added_at: now.to_string() })
}

/// Who is posting, as far as authentication goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// The Sender is registered with the company and its SharedSecret matches.
    Authenticated { sender: String },
    /// No company, unknown Sender, no or wrong SharedSecret: one answer for all.
    Unauthorized,
    /// Authenticated, but the `From` supplier is not one the company accepts.
    Forbidden { from: String },
}

/// The sender rule: the company (resolved from the `To` credential, if any) must have
/// registered the `Sender` identity, the SharedSecret must verify against its hash, and a
/// `From` identity must be among the company's accepted suppliers (`None`: any).
pub fn authenticate(company: Option<&Company>, sender: Option<&str>, secret: Option<&str>, from: &[String], dummy: &str) -> Auth {
    let registered: Option<&CxmlSender> =
        company.and_then(|c| sender.and_then(|s| c.cxml_senders.iter().find(|r| same_identity(&r.identity, s))));
    let hash = registered.map(|r| r.secret_hash.as_str()).unwrap_or(dummy);
    // Always one slow verification, whatever is missing.
    let ok = verify_secret(secret.unwrap_or(""), hash) && registered.is_some() && secret.is_some_and(|s| !s.is_empty());
    let (Some(company), Some(sender), true) = (company, sender, ok) else {
        return Auth::Unauthorized;
    };
    if let Some(accepted) = &company.accepted_suppliers {
        let first = from.first().cloned().unwrap_or_default();
        if !from.iter().any(|f| accepted.iter().any(|a| same_identity(a, f))) {
            return Auth::Forbidden { from: first };
        }
    }
    Auth::Authenticated { sender: sender.to_string() }
}

/// Identities compared as registered: the domain without case, the identity exactly.
fn same_identity(a: &str, b: &str) -> bool {
    let norm = |s: &str| match s.split_once(':') {
        Some((d, i)) => normalize_identity(d, i),
        None => s.trim().to_string(),
    };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_out_dummy_hash_is_the_hash_of_its_text_with_todays_parameters() {
        assert_eq!(hash_secret("invoice-bridge: no such sender", b"ib-dummy-salt-16").unwrap(), DUMMY_HASH);
    }

    fn company(senders: Vec<CxmlSender>, accepted: Option<Vec<String>>) -> Company {
        let mut c = Company::new("acme", "Acme", &[], "2026-01-01T00:00:00.000Z").unwrap();
        c.cxml_senders = senders;
        c.accepted_suppliers = accepted;
        c
    }

    #[test]
    fn hashes_are_salted_phc_strings_that_verify() {
        let a = hash_secret("s3cret", &[1; 16]).unwrap();
        let b = hash_secret("s3cret", &[2; 16]).unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(!a.contains("s3cret"));
        assert!(verify_secret("s3cret", &a) && verify_secret("s3cret", &b));
        assert!(!verify_secret("s3cret!", &a));
        assert!(!verify_secret("s3cret", "not a hash"));
        assert_eq!(hash_secret("", &[1; 16]), Err(SecretError::Empty));
        assert_eq!(hash_secret(&"x".repeat(257), &[1; 16]), Err(SecretError::TooLong));
    }

    #[test]
    fn the_sender_rule() {
        let dummy = dummy_hash();
        let sender = new_sender("networkid:AN-SUP", "right", &[7; 16], "2026-01-01T00:00:00.000Z").unwrap();
        let c = company(vec![sender.clone()], None);
        let from = vec!["duns:123".to_string()];
        let auth = |c: Option<&Company>, s: Option<&str>, p: Option<&str>| authenticate(c, s, p, &from, &dummy);
        assert_eq!(auth(Some(&c), Some("NetworkID:AN-SUP"), Some("right")), Auth::Authenticated { sender: "NetworkID:AN-SUP".into() });
        assert_eq!(auth(Some(&c), Some("networkid:AN-SUP"), Some("wrong")), Auth::Unauthorized);
        assert_eq!(auth(Some(&c), Some("networkid:OTHER"), Some("right")), Auth::Unauthorized);
        assert_eq!(auth(Some(&c), Some("networkid:an-sup"), Some("right")), Auth::Unauthorized, "identity compared exactly");
        assert_eq!(auth(Some(&c), Some("networkid:AN-SUP"), None), Auth::Unauthorized);
        assert_eq!(auth(Some(&c), None, Some("right")), Auth::Unauthorized);
        assert_eq!(auth(None, Some("networkid:AN-SUP"), Some("right")), Auth::Unauthorized);

        let only = company(vec![sender.clone()], Some(vec!["DUNS:999".into()]));
        assert_eq!(
            authenticate(Some(&only), Some("networkid:AN-SUP"), Some("right"), &from, &dummy),
            Auth::Forbidden { from: "duns:123".into() }
        );
        let listed = company(vec![sender], Some(vec!["DUNS:123".into()]));
        assert!(matches!(authenticate(Some(&listed), Some("networkid:AN-SUP"), Some("right"), &from, &dummy), Auth::Authenticated { .. }));
        // Wrong secret with a restricted supplier list: still 401, never 403.
        assert_eq!(authenticate(Some(&only), Some("networkid:AN-SUP"), Some("nope"), &from, &dummy), Auth::Unauthorized);
    }
}
