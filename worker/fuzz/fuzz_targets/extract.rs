//! The extractor on arbitrary bytes: never panics; evidence indexes the cleaned text.
#![no_main]

use dialogwatch_worker::{ArticleInput, Extractor};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static EXTRACTOR: OnceLock<Extractor> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let extractor = EXTRACTOR.get_or_init(Extractor::new);
    for is_html in [false, true] {
        let explanation = extractor.explain(&ArticleInput {
            text,
            is_html,
            ..ArticleInput::default()
        });
        let characters: Vec<char> = explanation.cleaned.text.chars().collect();
        for event in &explanation.extraction.events {
            for evidence in &event.evidence {
                let span: Option<String> = characters
                    .get(evidence.start..evidence.end)
                    .map(|chars| chars.iter().collect());
                assert_eq!(span.as_deref(), Some(evidence.text.as_str()));
            }
        }
    }
});
