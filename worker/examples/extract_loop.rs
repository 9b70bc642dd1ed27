//! Extracts the files given `ROUNDS` times (default 20), for instruction-count
//! profiles: `valgrind --tool=callgrind target/release/examples/extract_loop FILES…`.
use dialogwatch_worker::{ArticleInput, Extractor};

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(20);
    let texts: Vec<String> = std::env::args()
        .skip(1)
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .collect();
    let extractor = Extractor::new();
    for _ in 0..rounds {
        for text in &texts {
            std::hint::black_box(extractor.extract(&ArticleInput {
                text,
                ..ArticleInput::default()
            }));
        }
    }
}
