//! Benchmark of the synthetic data generator: `write_all` of 10k
//! conversations into a sink, reported per conversation and per byte.

use std::hint::black_box;
use std::io;

use convstats::synth::{GenParams, write_all};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CONVERSATIONS: u64 = 10_000;

fn bench(c: &mut Criterion) {
    let params = GenParams {
        conversations: CONVERSATIONS,
        ..GenParams::default()
    };
    let mut bytes = Vec::new();
    if let Err(e) = write_all(&params, &mut bytes) {
        panic!("generating into memory failed: {e}");
    }

    let mut group = c.benchmark_group("gen");
    group.sample_size(20);
    group.throughput(Throughput::Elements(CONVERSATIONS));
    group.bench_function("write_all_10k/conversations", |b| {
        b.iter(|| write_all(black_box(&params), &mut io::sink()))
    });
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("write_all_10k/bytes", |b| {
        b.iter(|| write_all(black_box(&params), &mut io::sink()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
