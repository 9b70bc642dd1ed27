//! SPEC §4: every bad input gets the right status, names its field, writes nothing.

use crate::common::{store_config, text_request, TestServer};
use dialogwatch::api::Limits;
use dialogwatch::proto;
use dialogwatch::ServerConfig;
use tonic::Code;
use tonic_types::StatusExt;

/// The field named by the status' BadRequest (or PreconditionFailure) details.
fn violated_field(status: &tonic::Status) -> String {
    let details = status.get_error_details();
    if let Some(bad_request) = details.bad_request() {
        return bad_request
            .field_violations
            .first()
            .map(|violation| violation.field.clone())
            .unwrap_or_default();
    }
    if let Some(precondition) = details.precondition_failure() {
        return precondition
            .violations
            .first()
            .map(|violation| violation.subject.clone())
            .unwrap_or_default();
    }
    String::new()
}

fn with_body(body: proto::article_content::Body) -> proto::SubmitArticleRequest {
    proto::SubmitArticleRequest {
        request_id: String::new(),
        article: Some(proto::ArticleContent {
            body: Some(body),
            ..Default::default()
        }),
    }
}

async fn small_limit_server(data_dir: &std::path::Path) -> TestServer {
    let config = ServerConfig {
        workers: 0,
        limits: Limits {
            max_article_bytes: 1000,
            max_message_bytes: 4000,
            max_page_size: 20,
            ..Limits::default()
        },
        ..ServerConfig::default()
    };
    TestServer::start_with(store_config(data_dir), config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_submissions_are_refused_with_their_field_and_store_nothing() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = small_limit_server(data_dir.path()).await;
    let mut articles = server.articles().await;
    let mut bad_url = text_request("Đối thoại", Some("javascript:alert(1)"));
    let mut bad_date = text_request("Đối thoại", None);
    if let Some(article) = bad_date.article.as_mut() {
        article.published_at = Some("29/3/2023".to_string());
    }
    let relative_url = text_request("Đối thoại", Some("/tin-tuc/abc"));
    if let Some(article) = bad_url.article.as_mut() {
        article.outlet = Some("QĐND".to_string());
    }
    let cases: Vec<(proto::SubmitArticleRequest, Code, &str)> = vec![
        (
            with_body(proto::article_content::Body::Text(String::new())),
            Code::InvalidArgument,
            "article.text",
        ),
        (
            with_body(proto::article_content::Body::Text(" \n\t\u{a0}".into())),
            Code::InvalidArgument,
            "article.text",
        ),
        (
            with_body(proto::article_content::Body::TextBytes(vec![
                0x41, 0xc3, 0x28,
            ])),
            Code::InvalidArgument,
            "article.text_bytes",
        ),
        (
            with_body(proto::article_content::Body::HtmlBytes(vec![0xff; 8])),
            Code::InvalidArgument,
            "article.html_bytes",
        ),
        (
            with_body(proto::article_content::Body::Text("x".repeat(1001))),
            Code::ResourceExhausted,
            "article.text",
        ),
        (
            with_body(proto::article_content::Body::Html("<div>".repeat(300))),
            Code::ResourceExhausted,
            "article.html",
        ),
        (
            proto::SubmitArticleRequest {
                request_id: String::new(),
                article: None,
            },
            Code::InvalidArgument,
            "article",
        ),
        (
            proto::SubmitArticleRequest {
                request_id: String::new(),
                article: Some(proto::ArticleContent::default()),
            },
            Code::InvalidArgument,
            "article.body",
        ),
        (bad_url, Code::InvalidArgument, "article.url"),
        (relative_url, Code::InvalidArgument, "article.url"),
        (bad_date, Code::InvalidArgument, "article.published_at"),
    ];
    for (request, code, field) in cases {
        let status = articles.submit_article(request).await.expect_err("refused");
        assert_eq!(status.code(), code, "{field}: {}", status.message());
        assert_eq!(violated_field(&status), field);
    }
    // Nothing was written: the first article id was never issued, no work is queued.
    let missing = articles
        .get_article(proto::GetArticleRequest {
            article_id: "art-1".to_string(),
        })
        .await
        .expect_err("nothing stored");
    assert_eq!(missing.code(), Code::NotFound);
    let leased = server
        .workers()
        .await
        .lease_articles(proto::LeaseArticlesRequest {
            worker_id: "probe".into(),
            max_articles: 10,
            lease_seconds: 1,
            wait_millis: 0,
        })
        .await
        .expect("lease")
        .into_inner();
    assert!(leased.articles.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_submission_reports_each_item() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = small_limit_server(data_dir.path()).await;
    let requests = vec![
        text_request("Bài một về đối thoại quốc phòng.", None),
        with_body(proto::article_content::Body::Text("  ".into())),
        text_request("Bài hai về hội đàm.", Some("https://example.vn/2")),
        text_request("Bài một về đối thoại quốc phòng.", None),
    ];
    let results = server
        .articles()
        .await
        .submit_articles(tokio_stream::iter(requests))
        .await
        .expect("bulk")
        .into_inner()
        .results;
    assert_eq!(results.len(), 4);
    let outcome = |index: usize| results[index].outcome.clone().expect("outcome");
    use proto::submit_article_result::Outcome;
    let Outcome::Accepted(first) = outcome(0) else {
        panic!("item 0 accepted")
    };
    let Outcome::Error(error) = outcome(1) else {
        panic!("item 1 refused")
    };
    assert_eq!(error.code, Code::InvalidArgument as i32);
    assert_eq!(error.field, "article.text");
    let Outcome::Accepted(second) = outcome(2) else {
        panic!("item 2 accepted")
    };
    let Outcome::Accepted(repeat) = outcome(3) else {
        panic!("item 3 accepted")
    };
    assert!(first.created && second.created);
    assert_eq!(repeat.article_id, first.article_id);
    assert!(!repeat.created);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_reads_are_refused_with_their_field() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = small_limit_server(data_dir.path()).await;
    let mut articles = server.articles().await;
    let mut dialogues = server.dialogues().await;

    let status = articles
        .get_article(proto::GetArticleRequest {
            article_id: "42".into(),
        })
        .await
        .expect_err("malformed id");
    assert_eq!(
        (status.code(), violated_field(&status).as_str()),
        (Code::InvalidArgument, "article_id")
    );
    let status = articles
        .get_article(proto::GetArticleRequest {
            article_id: "art-999".into(),
        })
        .await
        .expect_err("unknown id");
    assert_eq!(status.code(), Code::NotFound);
    let status = dialogues
        .get_dialogue(proto::GetDialogueRequest {
            dialogue_id: "dlg-0000000000000000".into(),
        })
        .await
        .expect_err("unknown record");
    assert_eq!(status.code(), Code::NotFound);

    let list = |page_size: i32, page_token: &str, filter: proto::DialogueFilter| {
        proto::ListDialoguesRequest {
            page_size,
            page_token: page_token.to_string(),
            filter: Some(filter),
            order_by: String::new(),
        }
    };
    let cases = vec![
        (list(-1, "", Default::default()), "page_size"),
        (list(21, "", Default::default()), "page_size"),
        (list(10, "not-a-token!", Default::default()), "page_token"),
        (
            list(
                10,
                "",
                proto::DialogueFilter {
                    partners: vec!["Singapore".into()],
                    ..Default::default()
                },
            ),
            "filter.partners",
        ),
        (
            list(
                10,
                "",
                proto::DialogueFilter {
                    kinds: vec![42],
                    ..Default::default()
                },
            ),
            "filter.kinds",
        ),
        (
            list(
                10,
                "",
                proto::DialogueFilter {
                    date_from: Some("tháng 5".into()),
                    ..Default::default()
                },
            ),
            "filter.date_from",
        ),
        (
            list(
                10,
                "",
                proto::DialogueFilter {
                    date_from: Some("2024".into()),
                    date_to: Some("2023".into()),
                    ..Default::default()
                },
            ),
            "filter.date_to",
        ),
    ];
    for (request, field) in cases {
        let status = dialogues.list_dialogues(request).await.expect_err(field);
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert_eq!(violated_field(&status), field);
    }
    dialogues
        .list_dialogues(list(20, "", Default::default()))
        .await
        .expect("the configured maximum page size itself is accepted");

    let status = dialogues
        .watch_dialogues(proto::WatchDialoguesRequest {
            from_sequence: 5,
            ..Default::default()
        })
        .await
        .expect_err("beyond the head");
    assert_eq!(
        (status.code(), violated_field(&status).as_str()),
        (Code::FailedPrecondition, "from_sequence")
    );

    let mut workers = server.workers().await;
    let status = workers
        .lease_articles(proto::LeaseArticlesRequest {
            worker_id: "w".into(),
            max_articles: 0,
            lease_seconds: 0,
            wait_millis: 0,
        })
        .await
        .expect_err("zero articles");
    assert_eq!(violated_field(&status), "max_articles");
    let status = workers
        .complete_article(proto::CompleteArticleRequest {
            article_id: "art-1".into(),
            lease_id: "x".into(),
            extraction: None,
        })
        .await
        .expect_err("no extraction");
    assert_eq!(violated_field(&status), "extraction");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_transport_limit_is_refused_and_deep_html_is_harmless() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = small_limit_server(data_dir.path()).await;
    let mut articles = server.articles().await;
    let status = articles
        .submit_article(with_body(proto::article_content::Body::Text(
            "x".repeat(10_000),
        )))
        .await
        .expect_err("over the message limit");
    assert_eq!(status.code(), Code::OutOfRange, "{}", status.message());
    // Deeply nested HTML within the limits is stored and processed, not a hang or a crash.
    let nested = format!("{}Hội đàm{}", "<b>".repeat(120), "</b>".repeat(120));
    let accepted = articles
        .submit_article(with_body(proto::article_content::Body::Html(nested)))
        .await
        .expect("nested html accepted")
        .into_inner();
    server.stop().await;
    let config = ServerConfig {
        workers: 1,
        ..ServerConfig::default()
    };
    let server = TestServer::start_with(store_config(data_dir.path()), config).await;
    let processed =
        crate::common::wait_until_settled(&mut server.articles().await, &accepted.article_id).await;
    assert_eq!(processed.state(), proto::ArticleState::Done);
    assert_eq!(processed.is_dialogue, Some(false));
    server.stop().await;
}

/// A client that skips its own UTF-8 check: the `string` body `text`
/// carrying bytes that are not UTF-8 (the server decodes bodies as bytes and
/// checks them itself, see `proto::unvalidated`). Unary: `INVALID_ARGUMENT`
/// on `article.text`, nothing stored. In a bulk stream: that item refused
/// on its field, the others stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_string_body_that_is_not_utf8_is_refused_on_its_field() {
    use proto::unvalidated::article_content::Body;
    use proto::unvalidated::{ArticleContent, SubmitArticleRequest};
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = small_limit_server(data_dir.path()).await;
    let raw = |body: Vec<u8>| SubmitArticleRequest {
        request_id: String::new(),
        article: Some(ArticleContent {
            body: Some(Body::Text(body)),
            ..Default::default()
        }),
    };
    let mut grpc = tonic::client::Grpc::new(server.channel().await);
    grpc.ready().await.expect("ready");
    let status = grpc
        .unary::<_, proto::SubmitArticleResponse, _>(
            tonic::Request::new(raw(b"Qu\xc3\x28c ph\xc3\xb2ng".to_vec())),
            "/dialogwatch.v1.ArticleService/SubmitArticle"
                .parse()
                .expect("path"),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
    assert_eq!(violated_field(&status), "article.text");
    assert!(
        status.message().contains("invalid UTF-8 at byte 2"),
        "{}",
        status.message()
    );

    grpc.ready().await.expect("ready");
    let requests = vec![
        raw("Bài một về đối thoại quốc phòng.".as_bytes().to_vec()),
        raw(vec![0xff, 0xfe, b'a']),
        raw("Bài hai về hội đàm.".as_bytes().to_vec()),
    ];
    let results = grpc
        .client_streaming::<_, _, proto::SubmitArticlesResponse, _>(
            tonic::Request::new(tokio_stream::iter(requests)),
            "/dialogwatch.v1.ArticleService/SubmitArticles"
                .parse()
                .expect("path"),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .expect("bulk")
        .into_inner()
        .results;
    use proto::submit_article_result::Outcome;
    let outcomes: Vec<Outcome> = results
        .into_iter()
        .map(|result| result.outcome.expect("outcome"))
        .collect();
    let [Outcome::Accepted(first), Outcome::Error(error), Outcome::Accepted(second)] =
        outcomes.as_slice()
    else {
        panic!("accepted, refused, accepted: {outcomes:?}")
    };
    assert_eq!(error.code, Code::InvalidArgument as i32);
    assert_eq!(error.field, "article.text");
    assert_eq!((first.article_id.as_str(), first.created), ("art-1", true));
    assert_eq!(
        (second.article_id.as_str(), second.created),
        ("art-2", true)
    );
    server.stop().await;
}
