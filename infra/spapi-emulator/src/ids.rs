//! Unique ids (request ids, transaction ids, access tokens): random version-4 UUIDs.

/// A random (version 4) UUID, hyphenated lower case: `9b2f…-…-4…-…`.
pub(crate) fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
