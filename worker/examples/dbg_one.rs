//! Prints the extraction of the text given as the first argument (development aid).
use dialogwatch_worker::{ArticleInput, Extractor};
fn main() {
    let text = std::env::args().nth(1).unwrap_or_default();
    let extraction = Extractor::new().extract(&ArticleInput {
        text: &text,
        ..ArticleInput::default()
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&extraction).unwrap_or_default()
    );
}
