//! The request-conversion layer on arbitrary wire bytes: decoding then
//! converting a submission, a filter or a worker's extraction never panics,
//! and what converts is valid (blank text, bad URLs and dates are refused).
#![no_main]

use dialogwatch::domain::{DialogueFilter, NewArticle};
use dialogwatch::proto;
use dialogwatch_worker::record::Extraction;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = proto::SubmitArticleRequest::decode(data) {
        if let Ok(article) = NewArticle::try_from(request) {
            assert!(!article.content.trim().is_empty());
            if let Some(url) = &article.url {
                assert!(url.starts_with("http://") || url.starts_with("https://"));
            }
        }
    }
    if let Ok(filter) = proto::DialogueFilter::decode(data) {
        let _ = DialogueFilter::try_from(filter);
    }
    if let Ok(extraction) = proto::Extraction::decode(data) {
        if let Ok(converted) = Extraction::try_from(extraction) {
            // Domain → proto → domain is stable.
            let back = proto::Extraction::from(converted.clone());
            assert_eq!(Extraction::try_from(back).ok(), Some(converted));
        }
    }
});
