//! Ids as people send them.
