//! Extraction throughput over the dev corpus (`../shared/corpus/dev`).
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dialogwatch_worker::{ArticleInput, Extractor};

fn corpus() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/dev");
    let mut texts = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut paths: Vec<_> = entries.flatten().map(|entry| entry.path()).collect();
        paths.sort();
        for path in paths {
            if path.extension().is_some_and(|ext| ext == "txt") {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    texts.push(text);
                }
            }
        }
    }
    texts
}

fn bench_extract(criterion: &mut Criterion) {
    let texts = corpus();
    let total_bytes: usize = texts.iter().map(String::len).sum();
    let extractor = Extractor::new();
    let mut group = criterion.benchmark_group("extract");
    group.throughput(Throughput::Bytes(total_bytes as u64));
    group.bench_function("dev_corpus", |bencher| {
        bencher.iter(|| {
            for text in &texts {
                let input = ArticleInput {
                    text,
                    ..ArticleInput::default()
                };
                std::hint::black_box(extractor.extract(&input));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_extract);
criterion_main!(benches);
