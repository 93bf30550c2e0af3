//! What a pass of the scheduler costs: `cargo bench -p exp1-simplest`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use exp1_simplest::{run, task, yield_now};

/// One task yielding `YIELDS` times, and 1000 tasks yielding 100 times each:
/// the cost of one round trip through the scheduler, per yield.
fn yields(c: &mut Criterion) {
    const YIELDS: u64 = 10_000;
    let mut group = c.benchmark_group("yield");
    group.throughput(Throughput::Elements(YIELDS));
    group.bench_function("1 task", |b| {
        b.iter(|| {
            run(vec![task(async {
                for _ in 0..YIELDS {
                    yield_now().await;
                }
            })])
        })
    });
    group.throughput(Throughput::Elements(1000 * 100));
    group.bench_function("1000 tasks", |b| {
        b.iter(|| {
            let tasks = (0..1000)
                .map(|_| {
                    task(async {
                        for _ in 0..100 {
                            yield_now().await;
                        }
                    })
                })
                .collect();
            run(tasks)
        })
    });
    group.finish();
}

criterion_group!(benches, yields);
criterion_main!(benches);
