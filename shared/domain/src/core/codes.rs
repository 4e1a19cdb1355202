//! Stable codes are enums with one kebab-case spelling; this is the rule their tests hold
//! every variant to.

/// A variant's name in kebab case: `NonNumericLineId` → `non-numeric-line-id`.
pub fn kebab_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, ch) in name.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_in_kebab_case() {
        assert_eq!(super::kebab_case("NonNumericLineId"), "non-numeric-line-id");
        assert_eq!(super::kebab_case("NoPo"), "no-po");
        assert_eq!(super::kebab_case("Ok"), "ok");
    }
}
