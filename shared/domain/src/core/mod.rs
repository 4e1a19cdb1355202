//! What every capability uses: money, time formatting, ids, and the ports' error type.

pub mod codes;
pub mod ids;
pub mod json;
pub mod money;
pub mod time;

pub use money::{Currency, Money};

/// Failure of a storage port; the message must not carry document contents or secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PortError(pub String);

/// Lowercase hex SHA-256 of some bytes (document identity).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
