//! Prints one SPEC §2 JSON line per file given (for scoring during development).
use dialogwatch_worker::{ArticleInput, Extractor};

fn main() {
    let extractor = Extractor::new();
    for path in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("cannot read {path}");
            continue;
        };
        let extraction = extractor.extract(&ArticleInput {
            text: &text,
            ..ArticleInput::default()
        });
        let file = std::path::Path::new(&path)
            .file_name()
            .map(|name| name.to_string_lossy().to_string());
        let line = serde_json::json!({"file": file, "is_dialogue": extraction.is_dialogue, "events": extraction.events});
        println!("{line}");
    }
}
