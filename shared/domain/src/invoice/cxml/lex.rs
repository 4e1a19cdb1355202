//! Byte-level helpers of the parser's hot path: attribute lookup and white-space trimming.
//! Each gives exactly the result of the general routine it replaces (quick-xml's attribute
//! iterator, `str::trim`), which the tests below check on hostile inputs.

use quick_xml::events::attributes::AttrError;

/// XML white space, as quick-xml's attribute grammar knows it.
fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\r' | b'\n' | b'\t')
}

fn skip_space(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_xml_space(s[i]) {
        i += 1;
    }
    i
}

/// The raw value of the first attribute called `name` in `tag` (the content of a start tag:
/// its name, then its attributes from byte `from` on), or the error of the first malformed
/// attribute before it.
///
/// Exactly what `BytesStart::attributes().with_checks(false)` yields when searched for `name`
/// (same XML grammar, same `AttrError` and positions), without its per-byte iterator adaptors:
/// attributes are searched on every start tag the reader acts on.
pub(super) fn find_attr<'t>(tag: &'t [u8], from: usize, name: &[u8]) -> Result<Option<&'t [u8]>, AttrError> {
    let len = tag.len();
    let mut i = from;
    loop {
        i = skip_space(tag, i);
        if i >= len {
            return Ok(None);
        }
        // The key runs up to `=` or white space; its first byte is taken as is.
        let key_start = i;
        let mut key_end = key_start + 1;
        while key_end < len && tag[key_end] != b'=' && !is_xml_space(tag[key_end]) {
            key_end += 1;
        }
        if key_end >= len {
            return Err(AttrError::ExpectedEq(len));
        }
        let eq = if tag[key_end] == b'=' {
            key_end
        } else {
            let k = skip_space(tag, key_end + 1);
            if k >= len {
                return Err(AttrError::ExpectedEq(len));
            }
            if tag[k] != b'=' {
                return Err(AttrError::ExpectedEq(k));
            }
            k
        };
        let q = skip_space(tag, eq + 1);
        if q >= len {
            return Err(AttrError::ExpectedValue(len));
        }
        let quote = tag[q];
        if quote != b'"' && quote != b'\'' {
            return Err(AttrError::UnquotedValue(q));
        }
        let value_start = q + 1;
        let Some(value_len) = tag[value_start..].iter().position(|&b| b == quote) else {
            return Err(AttrError::ExpectedQuote(len, quote));
        };
        let value_end = value_start + value_len;
        if &tag[key_start..key_end] == name {
            return Ok(Some(&tag[value_start..value_end]));
        }
        i = value_end + 1;
    }
}

/// Unicode white space that is ASCII (`char::is_whitespace` of U+0009..U+000D and U+0020).
fn is_ascii_white(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r' | b' ')
}

/// `str::trim`, with a fast path for the ASCII white space around nearly every value: only
/// when a non-ASCII character is left at either end does the Unicode-aware trim run.
pub(super) fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    // Most values (amounts, codes, names) have a visible ASCII character at both ends.
    match b {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => return s,
        [only] if only.is_ascii_graphic() => return s,
        _ => {}
    }
    let mut start = 0;
    while start < b.len() && is_ascii_white(b[start]) {
        start += 1;
    }
    let mut end = b.len();
    while end > start && is_ascii_white(b[end - 1]) {
        end -= 1;
    }
    // Both cuts are next to ASCII bytes, so on character boundaries.
    let t = s.get(start..end).unwrap_or(s);
    match (t.as_bytes().first(), t.as_bytes().last()) {
        (Some(&f), Some(&l)) if f >= 0x80 || l >= 0x80 => t.trim(),
        _ => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::BytesStart;

    /// What the attribute iterator finds for `name` (the reference behaviour).
    fn reference<'t>(e: &'t BytesStart<'t>, name: &[u8]) -> Result<Option<Vec<u8>>, AttrError> {
        for a in e.attributes().with_checks(false) {
            let a = a?;
            if a.key.as_ref() == name {
                return Ok(Some(a.value.to_vec()));
            }
        }
        Ok(None)
    }

    fn same_as_quick_xml(content: &str) {
        let name_len = content.bytes().position(is_xml_space).unwrap_or(content.len());
        let e = BytesStart::from_content(content, name_len);
        for name in [&b"a"[..], b"b", b"currency", b"x:y", b"=", b"\"", b""] {
            let ours = find_attr(content.as_bytes(), name_len, name).map(|v| v.map(<[u8]>::to_vec));
            assert_eq!(ours, reference(&e, name), "attribute {:?} of <{content}>", String::from_utf8_lossy(name));
        }
    }

    #[test]
    fn attribute_lookup_reads_what_quick_xml_reads() {
        let cases = [
            "Money",
            "Money ",
            "Money currency=\"USD\"",
            "Money  currency = 'EUR' a=\"1\"",
            "Money a=\"1\"b=\"2\"",
            "Money a=\"1\" a=\"2\"",
            "Money a='x\"y' b=\"x'y\"",
            "Money a=\"\" b=''",
            "Money a",
            "Money a ",
            "Money a b=\"1\"",
            "Money a=",
            "Money a= ",
            "Money a=1",
            "Money a=1 b=\"2\"",
            "Money b=\"2\" a=1",
            "Money a=\"1",
            "Money a='1",
            "Money ==\"1\"",
            "Money =\"1\"",
            "Money \"=\"1\"",
            "Money x:y=\"p\" currency=\"USD\"",
            "Money\tcurrency\r\n=\n\"USD\"\t",
            "Money currency=\"US&#68;\"",
            "Money b=\"2\" currency",
            "Money currency=\"USD\" b",
            "Money a=\"1\"=\"2\"",
        ];
        for c in cases {
            same_as_quick_xml(c);
        }
        // Every prefix of a tag with all kinds of attributes.
        let long = "Item  a=\"1\" b = '2'\tcurrency=\"x\"y=\"3\" =\"4\" b=5 a=\"6";
        for end in 4..=long.len() {
            same_as_quick_xml(&long[..end]);
        }
    }

    #[test]
    fn trim_is_str_trim() {
        let cases = [
            "",
            " ",
            "\t\n\x0B\x0C\r ",
            "abc",
            "  abc  ",
            "\n12.50\n",
            "\u{a0}x\u{a0}",
            " \u{3000} x \u{2028}",
            "\u{85}",
            "x\u{85}",
            "\u{e9}t\u{e9}",
            " \u{e9} ",
            "\x1c x \x1f",
            "a b",
            "\u{feff}x",
        ];
        for c in cases {
            assert_eq!(trim(c), c.trim(), "{c:?}");
        }
    }
}
