//! Every bundled sample (copies of the cXML samples in the reference material shipped beside
//! the project, and the spec's Appendix 2) reads as EXPECTED.tsv says.

use std::path::PathBuf;

use invoice_domain::invoice::cxml::Limits;
use invoice_domain::invoice::report::CheckReport;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cxml/samples")
}

#[test]
fn bundled_samples_match_expected_results() {
    let table = std::fs::read_to_string(fixtures().join("EXPECTED.tsv")).unwrap();
    let mut rows = 0;
    for line in table.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, ok, id, cur, lines, net, due, orders, errors) =
            (cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols.get(8).copied().unwrap_or(""));
        let bytes = std::fs::read(fixtures().join(file)).unwrap();
        let checked = invoice_domain::invoice::check(&bytes, &Limits::default());
        let r = CheckReport::new(file, &checked);
        let inv = r.invoice.as_ref().unwrap_or_else(|| panic!("{file}: not read: {:?}", r.errors));
        assert_eq!(r.ok, ok == "yes", "{file}: {:?}", r.errors);
        assert_eq!(inv.invoice_id.as_deref(), Some(id), "{file}");
        assert_eq!(inv.currency.as_deref(), Some(cur), "{file}");
        assert_eq!(inv.lines.to_string(), lines, "{file}");
        let dec = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        assert_eq!(dec(inv.net.as_deref().unwrap()), dec(net), "{file} net");
        assert_eq!(dec(inv.due.as_deref().unwrap()), dec(due), "{file} due");
        let want_orders: Vec<&str> = if orders.is_empty() { vec![] } else { orders.split(',').collect() };
        assert_eq!(inv.order_ids, want_orders, "{file}");
        let mut codes: Vec<&str> = r.errors.iter().map(|e| e.code.as_str()).collect();
        codes.sort();
        codes.dedup();
        let want: Vec<&str> = if errors.is_empty() { vec![] } else { errors.split(',').collect() };
        assert_eq!(codes, want, "{file}: {:?}", r.errors);
        rows += 1;
    }
    assert_eq!(rows, 8);
}

/// The text of every `<SharedSecret>` element in a document's raw bytes.
fn shared_secrets(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(start) = rest.find("<SharedSecret>") {
        rest = &rest[start + "<SharedSecret>".len()..];
        let end = rest.find("</SharedSecret>").expect("closed SharedSecret");
        out.push(rest[..end].trim().to_string());
        rest = &rest[end..];
    }
    out
}

/// Whether `secret` occurs in `text` as a value of its own: not merely as part of a longer word
/// (s00's secret `test1` is the start of its legitimate Sender identity `test123identity`).
fn leaks(text: &str, secret: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
    text.match_indices(secret).any(|(at, _)| !word(text[..at].chars().next_back()) && !word(text[at + secret.len()..].chars().next()))
}

/// Everything a parsed document is turned into: the model (Debug and serialised), the whole
/// check result, and the report (Debug and serialised, as `invoicectl check --json` prints it).
fn outputs(file: &str, bytes: &[u8]) -> Vec<(&'static str, String)> {
    let checked = invoice_domain::invoice::check(bytes, &Limits::default());
    let inv = checked.invoice.as_ref().unwrap_or_else(|| panic!("{file}: not read"));
    let report = CheckReport::new(file, &checked);
    vec![
        ("model Debug", format!("{inv:?}")),
        ("model JSON", serde_json::to_string(inv).unwrap()),
        ("check result Debug", format!("{checked:?}")),
        ("report Debug", format!("{report:?}")),
        ("report JSON", serde_json::to_string(&report).unwrap()),
    ]
}

#[test]
fn leak_check_finds_a_secret_value_but_not_a_longer_word() {
    assert!(leaks(r#"identity: "test1", domain"#, "test1"));
    assert!(leaks(r#"{"identity":"test1"}"#, "test1"));
    assert!(leaks("sender test1 x", "test1"));
    assert!(!leaks(r#"identity: "test123identity""#, "test1"));
    assert!(!leaks("mytest1", "test1"));
}

#[test]
fn shared_secret_is_never_read() {
    let mut with_secret = Vec::new();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().and_then(|e| e.to_str()) != Some("xml") {
            continue;
        }
        let file = p.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&p).unwrap();
        let secrets = shared_secrets(&bytes);
        let out = outputs(&file, &bytes);
        for secret in &secrets {
            assert!(!secret.is_empty(), "{file}: empty SharedSecret");
            for (what, text) in &out {
                assert!(!leaks(text, secret), "{file}: SharedSecret {secret:?} leaked into the {what}");
            }
        }
        // Whatever the secret is, nothing read changes with it: the same document with another
        // secret of the same length gives exactly the same model and report.
        if !secrets.is_empty() {
            let mut other = String::from_utf8(bytes.clone()).unwrap();
            for secret in &secrets {
                let with = format!("<SharedSecret>{secret}</SharedSecret>");
                assert!(other.contains(&with), "{file}");
                other = other.replace(&with, &format!("<SharedSecret>{}</SharedSecret>", "Q".repeat(secret.len())));
            }
            for ((what, changed), (_, text)) in outputs(&file, other.as_bytes()).iter().zip(&out) {
                assert!(changed == text, "{file}: the SharedSecret's value changed the {what}");
            }
            with_secret.push(file.clone());
        }
        let inv = invoice_domain::invoice::check(&bytes, &Limits::default()).invoice.unwrap();
        assert!(!inv.sender.is_empty(), "{file}: sender identity read");
    }
    // The check ran on real secrets: s00 (the spec's Appendix 2) carries `test1`.
    let s00 = std::fs::read(fixtures().join("s00-spec-amazon-business-appendix2.xml")).unwrap();
    assert_eq!(shared_secrets(&s00), vec!["test1"]);
    assert!(with_secret.iter().any(|f| f.starts_with("s00-")), "{with_secret:?}");
    assert_eq!(with_secret.len(), 8, "every sample has a Sender SharedSecret: {with_secret:?}");
}

#[test]
fn s01_details_are_read() {
    let bytes = std::fs::read(fixtures().join("s01-amazon-business-two-sellers.xml")).unwrap();
    let inv = invoice_domain::invoice::check(&bytes, &Limits::default()).invoice.unwrap();
    assert_eq!(inv.payload_id.as_deref(), Some("1731583200123.48213.7711@amazon.com"));
    assert_eq!(inv.from[0].identity, "AN01011737571");
    assert_eq!(inv.sender[0].identity, "northwind-procure");
    assert_eq!(inv.header.payment_terms[0].pay_in_number_of_days, Some(30));
    let remit = inv.partner("remitTo").unwrap();
    assert_eq!(remit.name.as_deref(), Some("Amazon Capital Services"));
    assert_eq!(remit.postal_code, None);
    let ship_to = inv.header.shipping.iter().find(|c| c.role == "shipTo").unwrap();
    assert_eq!(ship_to.street, vec!["500 Harbor Way", "Dock 3"]);
    let items: Vec<_> = inv.items().collect();
    assert_eq!(items[0].reference_line_number.as_deref(), Some("li_1"));
    assert_eq!(items[0].supplier_part_id.as_deref(), Some("B07QXV6N1B"));
    assert_eq!(items[0].description.as_deref(), Some("Heavy Duty Stapler, 40 Sheet Capacity, Black"));
    assert_eq!(items[0].classifications, vec![("UNSPSC".into(), "44121615".into())]);
    assert_eq!(items[0].extrinsic("category"), Some("OFFICE_PRODUCTS"));
    assert_eq!(items[0].extrinsic("soldBy"), Some("Amazon.com"));
    let tax = items[0].amounts.tax.as_ref().unwrap();
    assert_eq!(tax.details.len(), 2);
    assert_eq!(tax.details[1].percentage_rate, Some("2.5".parse().unwrap()));
    assert_eq!(inv.supplier_order_ids(), vec!["114-5521907-3318242"]);
    assert_eq!(inv.header.extrinsics.iter().find(|e| e.name == "carrierName").unwrap().value, "Amazon Logistics");
}

#[test]
fn s03_s04_s07_tolerant_reading() {
    let read = |f: &str| {
        let bytes = std::fs::read(fixtures().join(f)).unwrap();
        invoice_domain::invoice::check(&bytes, &Limits::default()).invoice.unwrap()
    };
    let s03 = read("s03-tabbed-address-misspelt-terms.xml");
    let sold_to = s03.partner("soldTo").unwrap();
    assert_eq!(sold_to.street, vec!["500 Harbor Way"], "tab-filled Street is empty");
    assert_eq!(s03.partner("billTo").unwrap().address_id.as_deref(), Some("2210"));
    assert_eq!(s03.header.payment_terms[0].pay_in_number_of_days, None, "misspelt attribute ignored");

    let s04 = read("s04-service-lines-padded-numbers.xml");
    let items: Vec<_> = s04.items().collect();
    assert_eq!(items[0].invoice_line_number, Some(1));
    assert_eq!(items[0].quantity, Some("7.5".parse().unwrap()));
    assert_eq!(items[0].unit_of_measure.as_deref(), Some("HUR"));
    assert_eq!(s04.header.payment_terms[0].pay_in_number_of_days, Some(30));

    let s07 = read("s07-eur-vat-accounting-distribution.xml");
    let item = s07.items().next().unwrap();
    assert_eq!(item.description.as_deref(), Some("Ordner A4, 80 mm, \"Rückenschild\" & Griffloch"));
    assert_eq!(item.distributions.len(), 2);
    assert_eq!(item.distributions[0].segments[0].id, "4711");
    assert_eq!(item.distributions[1].charge.unwrap().amount, "40.00".parse().unwrap());
    assert_eq!(item.unit_price.unwrap().amount, "25.00".parse().unwrap());
    assert_eq!(s07.partner("from").unwrap().name.as_deref(), Some("Bürobedarf Müller GmbH"));
}
