//! The cleaner on arbitrary bytes, as text and as HTML: never panics, idempotent.
#![no_main]

use dialogwatch_worker::clean::clean_article;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for is_html in [false, true] {
        let once = clean_article(text, is_html).text;
        let twice = clean_article(&once, false).text;
        assert_eq!(once, twice, "cleaning is idempotent");
    }
});
