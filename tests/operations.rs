//! The operator endpoints: Prometheus metrics, liveness and readiness.

use crate::common::{store_config, take_events, text_request, wait_until_settled, TestServer};
use dialogwatch::proto;
use dialogwatch::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// GET `path` over plain HTTP/1.1; returns (status code, body).
async fn http_get(address: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The value of the sample line `name` (with labels) in an exposition.
fn sample(exposition: &str, name: &str) -> Option<f64> {
    exposition
        .lines()
        .find(|line| line.starts_with(name) && line[name.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_health_and_readiness_are_served() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        workers: 1,
        ..ServerConfig::default()
    };
    let server = TestServer::start_with_metrics(store_config(data_dir.path()), config).await;
    let metrics_address = server.metrics_address.expect("metrics address");

    assert_eq!(http_get(metrics_address, "/healthz").await.0, 200);
    assert_eq!(http_get(metrics_address, "/readyz").await.0, 200);
    assert_eq!(http_get(metrics_address, "/nope").await.0, 404);

    let mut feed = server
        .dialogues()
        .await
        .watch_dialogues(proto::WatchDialoguesRequest::default())
        .await
        .expect("watch")
        .into_inner();
    let mut articles = server.articles().await;
    let accepted = articles
        .submit_article(text_request(
            "Chiều 5/10/2023, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến và ông Chan Heng Kee đồng chủ trì Đối thoại Chính sách Quốc phòng Việt Nam - Singapore lần thứ 14.",
            None,
        ))
        .await
        .expect("submit")
        .into_inner();
    articles
        .submit_article(text_request("", None))
        .await
        .expect_err("rejected");
    let settled = wait_until_settled(&mut articles, &accepted.article_id).await;
    assert_eq!(settled.state(), proto::ArticleState::Done);
    // The article is marked done in the completion's write; its record's feed
    // event (and the published head) follow the flush. Scrape after it arrived.
    take_events(&mut feed, 1).await;

    let (status, exposition) = http_get(metrics_address, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(
        sample(
            &exposition,
            "dialogwatch_articles_submitted_total{result=\"created\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &exposition,
            "dialogwatch_articles_submitted_total{result=\"rejected\"}"
        ),
        Some(1.0)
    );
    assert_eq!(sample(&exposition, "dialogwatch_queue_depth"), Some(0.0));
    assert_eq!(
        sample(&exposition, "dialogwatch_leases_outstanding"),
        Some(0.0)
    );
    let head = sample(&exposition, "dialogwatch_feed_head_sequence").expect("feed head");
    assert!(head >= 1.0, "a record was created");
    assert!(
        sample(&exposition, "dialogwatch_search_backlog_records").is_some(),
        "the search backlog is exported"
    );
    assert_eq!(
        sample(&exposition, "dialogwatch_extraction_duration_seconds_count"),
        Some(1.0)
    );
    // The lone article's text stays in sled; its cleaned text is in the text
    // log; the submission and the completion are records of the write-ahead
    // log; the record and its feed event are in the value log.
    for (part, at_least) in [
        ("sled", 0.0),
        ("text_log", 100.0),
        ("write_ahead_log", 100.0),
        ("value_log", 100.0),
    ] {
        let bytes = sample(
            &exposition,
            &format!("dialogwatch_store_disk_bytes{{part=\"{part}\"}}"),
        );
        assert!(
            bytes.is_some_and(|bytes| bytes > at_least),
            "{part}: {bytes:?}"
        );
    }
    assert!(exposition.contains("# TYPE dialogwatch_processing_duration_seconds histogram"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_snapshot_restores_as_a_data_directory() {
    use crate::common::{complete_synthetically, distinct_requests};
    use dialogwatch::proto::admin_service_client::AdminServiceClient;
    let data_dir = tempfile::tempdir().expect("tempdir");
    let backups = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(data_dir.path(), 0).await;
    server
        .articles()
        .await
        .submit_articles(tokio_stream::iter(distinct_requests(5, "snapshot")))
        .await
        .expect("submit");
    complete_synthetically(&server, 5, "KR", 1).await;
    let destination = backups.path().join("copy");
    let mut admin = AdminServiceClient::new(server.channel().await);
    let taken = admin
        .snapshot(proto::SnapshotRequest {
            path: destination.display().to_string(),
        })
        .await
        .expect("snapshot while serving")
        .into_inner();
    assert!(taken.entries > 0);
    let again = admin
        .snapshot(proto::SnapshotRequest {
            path: destination.display().to_string(),
        })
        .await
        .expect_err("an existing snapshot is not overwritten");
    assert_eq!(again.code(), tonic::Code::InvalidArgument);
    let relative = admin
        .snapshot(proto::SnapshotRequest {
            path: "relative/path".into(),
        })
        .await
        .expect_err("relative paths are refused");
    assert_eq!(relative.code(), tonic::Code::InvalidArgument);
    // Writes after the snapshot are not in it.
    server
        .articles()
        .await
        .submit_article(text_request("Bài sau bản sao lưu.", None))
        .await
        .expect("submit after");
    server.stop().await;

    let restored = TestServer::start(&destination, 0).await;
    let listed = restored
        .dialogues()
        .await
        .list_dialogues(proto::ListDialoguesRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.dialogues.len(), 5);
    let mut feed = restored
        .dialogues()
        .await
        .watch_dialogues(proto::WatchDialoguesRequest::default())
        .await
        .expect("watch")
        .into_inner();
    let events = crate::common::take_events(&mut feed, 5).await;
    assert_eq!(events.last().map(|event| event.sequence), Some(5));
    let missing = restored
        .articles()
        .await
        .get_article(proto::GetArticleRequest {
            article_id: "art-6".into(),
        })
        .await
        .expect_err("the later article is not in the snapshot");
    assert_eq!(missing.code(), tonic::Code::NotFound);
    restored.stop().await;
}
