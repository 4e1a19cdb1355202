//! Parse + validate throughput of `invoice_domain::invoice::check`.
//!
//! - `large/check_10000_lines`: one generated 10,000-line Amazon-Business-shaped invoice
//!   (about 10 MB), reported in bytes/s.
//! - `corpus/check_all_samples`: every bundled valid sample document per iteration, reported
//!   in invoices/s.
//!
//! Run: `cargo bench -p invoice-domain --bench parse_validate` (about 25 s once built).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use invoice_domain::invoice::cxml::Limits;
use invoice_testgen::{large_invoice, small_corpus};

fn large(c: &mut Criterion) {
    let doc = large_invoice(10_000).into_bytes();
    let limits = Limits::default();
    assert!(invoice_domain::invoice::check(&doc, &limits).is_valid(), "the generated invoice must be valid");
    let mut group = c.benchmark_group("large");
    group.throughput(Throughput::Bytes(doc.len() as u64));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(12));
    group.bench_function("check_10000_lines", |b| {
        b.iter(|| {
            let checked = invoice_domain::invoice::check(black_box(&doc), &limits);
            black_box(checked.is_valid())
        })
    });
    group.finish();
}

fn corpus(c: &mut Criterion) {
    let docs = small_corpus();
    let limits = Limits::default();
    for d in &docs {
        assert!(invoice_domain::invoice::check(d, &limits).is_valid(), "every corpus document must be valid");
    }
    let mut group = c.benchmark_group("corpus");
    group.throughput(Throughput::Elements(docs.len() as u64));
    group.sample_size(50);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("check_all_samples", |b| {
        b.iter(|| {
            let mut valid = 0usize;
            for d in &docs {
                valid += invoice_domain::invoice::check(black_box(d), &limits).is_valid() as usize;
            }
            black_box(valid)
        })
    });
    group.finish();
}

criterion_group!(benches, large, corpus);
criterion_main!(benches);
