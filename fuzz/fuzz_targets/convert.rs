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
    // As the server decodes it: the body as bytes, its UTF-8 checked on conversion.
    if let Ok(request) = proto::unvalidated::SubmitArticleRequest::decode(data) {
        let converted = NewArticle::try_from(request);
        if let Ok(article) = &converted {
            assert!(!article.content.trim().is_empty());
            if let Some(url) = &article.url {
                assert!(url.starts_with("http://") || url.starts_with("https://"));
            }
        }
        // What a client's own types decode converts alike.
        if let Ok(client) = proto::SubmitArticleRequest::decode(data) {
            let from_client = NewArticle::try_from(proto::unvalidated::SubmitArticleRequest::from(client));
            assert_eq!(
                from_client.map(|article| article.content).ok(),
                converted.map(|article| article.content).ok()
            );
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
