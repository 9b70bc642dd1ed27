//! Per-stage throughput of the extractor over the files given:
//! `cargo run --release -p dialogwatch-worker --example profile_parts -- ../shared/corpus/dev/*.txt`
use dialogwatch_worker::{ArticleInput, Extractor};
use std::time::Instant;
fn main() {
    let texts: Vec<String> = std::env::args()
        .skip(1)
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let extractor = Extractor::new();
    let gaz = dialogwatch_worker::gazetteer::Gazetteer::new();
    let rounds = 50;
    let t = Instant::now();
    for _ in 0..rounds {
        for text in &texts {
            std::hint::black_box(dialogwatch_worker::normalize::normalize(text));
        }
    }
    println!(
        "normalize {:.1} MB/s",
        (bytes * rounds) as f64 / t.elapsed().as_secs_f64() / 1e6
    );
    let t = Instant::now();
    for _ in 0..rounds {
        for text in &texts {
            std::hint::black_box(dialogwatch_worker::clean::clean_article(text, false));
        }
    }
    println!(
        "clean {:.1} MB/s",
        (bytes * rounds) as f64 / t.elapsed().as_secs_f64() / 1e6
    );
    let t = Instant::now();
    for _ in 0..rounds {
        for text in &texts {
            std::hint::black_box(gaz.find_all(text));
        }
    }
    println!(
        "gazetteer {:.1} MB/s",
        (bytes * rounds) as f64 / t.elapsed().as_secs_f64() / 1e6
    );
    let t = Instant::now();
    for _ in 0..rounds {
        for text in &texts {
            std::hint::black_box(dialogwatch_worker::dates::find_dates(text));
        }
    }
    println!(
        "dates {:.1} MB/s",
        (bytes * rounds) as f64 / t.elapsed().as_secs_f64() / 1e6
    );
    let t = Instant::now();
    for _ in 0..rounds {
        for text in &texts {
            std::hint::black_box(extractor.extract(&ArticleInput {
                text,
                ..Default::default()
            }));
        }
    }
    println!(
        "extract {:.1} MB/s",
        (bytes * rounds) as f64 / t.elapsed().as_secs_f64() / 1e6
    );
}
