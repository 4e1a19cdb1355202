//! Reading a function's settings from its environment, the same way for every function:
//! required values, positive whole numbers with defaults, and S3 prefixes that must end with
//! `/` and never contain one another.

use std::collections::HashMap;

/// Why a function's environment is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {0} must be a positive whole number, got '{1}'")]
    NotANumber(&'static str, String),
    #[error("prefixes must be distinct, end with '/' and not contain one another: {0}")]
    Prefixes(String),
}

/// A function's environment (the process's, or a map in tests).
pub struct Env<'a>(pub &'a HashMap<String, String>);

impl Env<'_> {
    pub fn required(&self, k: &'static str) -> Result<String, ConfigError> {
        self.0.get(k).cloned().filter(|v| !v.is_empty()).ok_or(ConfigError::Missing(k))
    }

    pub fn or(&self, k: &str, default: &str) -> String {
        self.0.get(k).cloned().unwrap_or_else(|| default.to_string())
    }

    pub fn positive(&self, k: &'static str, default: usize) -> Result<usize, ConfigError> {
        match self.0.get(k) {
            None => Ok(default),
            Some(v) => v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| ConfigError::NotANumber(k, v.clone())),
        }
    }
}

/// Checks that S3 prefixes end with `/` and none starts with another.
pub fn distinct_prefixes(prefixes: &[(&str, &str)]) -> Result<(), ConfigError> {
    let overlapping =
        prefixes.iter().enumerate().any(|(i, (_, a))| prefixes.iter().enumerate().any(|(j, (_, b))| i != j && a.starts_with(b)));
    if prefixes.iter().any(|(_, p)| !p.ends_with('/')) || overlapping {
        let listed: Vec<String> = prefixes.iter().map(|(name, p)| format!("{name} '{p}'")).collect();
        return Err(ConfigError::Prefixes(listed.join(", ")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_numbers_and_prefixes() {
        let mut m = HashMap::new();
        m.insert("N".to_string(), "12".to_string());
        m.insert("BAD".to_string(), "0".to_string());
        let e = Env(&m);
        assert_eq!(e.required("TABLE_NAME"), Err(ConfigError::Missing("TABLE_NAME")));
        assert_eq!(e.positive("N", 3), Ok(12));
        assert_eq!(e.positive("M", 3), Ok(3));
        assert!(matches!(e.positive("BAD", 3), Err(ConfigError::NotANumber("BAD", _))));
        assert_eq!(e.or("X", "incoming/"), "incoming/");
        assert!(distinct_prefixes(&[("a", "incoming/"), ("b", "archive/")]).is_ok());
        assert!(distinct_prefixes(&[("a", "incoming/"), ("b", "incoming/archive/")]).is_err());
        assert!(distinct_prefixes(&[("a", "incoming")]).is_err());
    }
}
