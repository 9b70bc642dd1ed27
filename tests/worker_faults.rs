//! Worker faults: a panicking extraction, a worker process killed mid-lease;
//! the dead-letter list shows what failed and why, and can retry it.

use crate::common::{
    distinct_requests, store_config, text_request, wait_until_settled, TestServer, PATIENCE,
};
use dialogwatch::client::ClientOptions;
use dialogwatch::proto;
use dialogwatch::proto::admin_service_client::AdminServiceClient;
use dialogwatch::workers::{run_remote_workers, WorkerOptions};
use dialogwatch::ServerConfig;
use dialogwatch_worker::record::Extraction;
use dialogwatch_worker::runner::Extract;
use dialogwatch_worker::{ArticleInput, Extractor};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The real extractor, except that it panics on articles containing "PANIC".
struct PanicsOnRequest(Extractor);

impl Extract for PanicsOnRequest {
    fn extract(&self, input: &ArticleInput<'_>) -> Extraction {
        if input.text.contains("PANIC") {
            panic!("extractor bug triggered by the article");
        }
        self.0.extract(input)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_article_is_dead_lettered_and_can_be_retried() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(data_dir.path(), 0).await;
    let mut articles = server.articles().await;
    let poison = articles
        .submit_article(text_request("PANIC: hội đàm quốc phòng", None))
        .await
        .expect("submit poison")
        .into_inner();
    let healthy = articles
        .submit_article(text_request("Hội đàm quốc phòng bình thường.", None))
        .await
        .expect("submit healthy")
        .into_inner();

    let stop = CancellationToken::new();
    let workers = tokio::spawn(run_remote_workers(
        ClientOptions::plain(server.url())
            .connect_lazy()
            .expect("channel"),
        2,
        WorkerOptions::default(),
        stop.clone(),
        Arc::new(PanicsOnRequest(Extractor::new())),
    ));
    let dead = wait_until_settled(&mut articles, &poison.article_id).await;
    let fine = wait_until_settled(&mut articles, &healthy.article_id).await;
    stop.cancel();
    let stats = tokio::time::timeout(PATIENCE, workers)
        .await
        .expect("workers stop")
        .expect("worker task")
        .expect("workers ran");
    let max_attempts = store_config(data_dir.path()).max_attempts;
    assert_eq!(stats.failed, u64::from(max_attempts));
    assert_eq!(dead.state(), proto::ArticleState::DeadLettered);
    assert!(dead
        .last_error
        .as_deref()
        .is_some_and(|error| error.contains("extractor panicked")));
    assert_eq!(fine.state(), proto::ArticleState::Done);

    let mut admin = AdminServiceClient::new(server.channel().await);
    let listed = admin
        .list_dead_letters(proto::ListDeadLettersRequest::default())
        .await
        .expect("list dead letters")
        .into_inner()
        .articles;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].article_id, poison.article_id);

    // Retried with a working extractor (in-process workers of a restarted server), it completes.
    let requeued = admin
        .retry_dead_letter(proto::RetryDeadLetterRequest {
            article_id: poison.article_id.clone(),
        })
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(requeued.state(), proto::ArticleState::Queued);
    server.stop().await;
    let server = TestServer::start(data_dir.path(), 1).await;
    let mut articles = server.articles().await;
    let retried = wait_until_settled(&mut articles, &poison.article_id).await;
    assert_eq!(retried.state(), proto::ArticleState::Done);
    let empty = AdminServiceClient::new(server.channel().await)
        .list_dead_letters(proto::ListDeadLettersRequest::default())
        .await
        .expect("list")
        .into_inner()
        .articles;
    assert!(empty.is_empty());
    server.stop().await;
}

/// Kills the child on drop.
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker_process(url: &str) -> Process {
    Process(
        std::process::Command::new(env!("CARGO_BIN_EXE_dialogwatch"))
            .args([
                "worker",
                "--server",
                url,
                "--concurrency",
                "2",
                "--lease-seconds",
                "1",
            ])
            .env("DIALOGWATCH_LOG", "warn")
            .spawn()
            .expect("start worker"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_lease_loses_nothing() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        workers: 0,
        ..ServerConfig::default()
    };
    let server = TestServer::start_with(store_config(data_dir.path()), config).await;
    const ARTICLES: usize = 40;
    let results = server
        .articles()
        .await
        .submit_articles(tokio_stream::iter(distinct_requests(
            ARTICLES,
            "killed-worker",
        )))
        .await
        .expect("bulk")
        .into_inner()
        .results;
    let ids: Vec<String> = results
        .into_iter()
        .filter_map(|result| match result.outcome {
            Some(proto::submit_article_result::Outcome::Accepted(accepted)) => {
                Some(accepted.article_id)
            }
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), ARTICLES);

    // A worker that takes leases and dies with them.
    let mut doomed = worker_process(&server.url());
    let mut workers = server.workers().await;
    // Make sure at least one lease is outstanding when it dies: take one ourselves and drop it too.
    let abandoned = workers
        .lease_articles(proto::LeaseArticlesRequest {
            worker_id: "abandoning".into(),
            max_articles: 1,
            lease_seconds: 1,
            wait_millis: 1_000,
        })
        .await
        .expect("lease")
        .into_inner()
        .articles;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = doomed.0.kill();
    let _ = doomed.0.wait();
    drop(doomed);

    let _survivor = worker_process(&server.url());
    let mut articles = server.articles().await;
    for id in &ids {
        let article = wait_until_settled(&mut articles, id).await;
        assert_eq!(article.state(), proto::ArticleState::Done, "{id}");
    }
    if let Some(lost_lease) = abandoned.first() {
        let article = wait_until_settled(&mut articles, &lost_lease.article_id).await;
        assert!(
            article.attempts >= 2,
            "the abandoned lease was handed out again"
        );
    }
    server.stop().await;
}
