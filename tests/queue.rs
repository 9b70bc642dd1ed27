//! Leases, expiry, retries, dead letters, and a remote worker process.

use crate::common::{
    dev_corpus, take_events, text_request, wait_until_settled, TestServer, PATIENCE,
};
use dialogwatch::proto;
use dialogwatch_worker::Extractor;

const ARTICLE: &str = "Chiều 5/10/2023, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến, Thứ trưởng Bộ \
Quốc phòng và ông Chan Heng Kee, Thư ký Thường trực Bộ Quốc phòng Singapore đồng chủ trì Đối \
thoại Chính sách Quốc phòng Việt Nam - Singapore lần thứ 14.";

fn lease_request(lease_seconds: u32, wait_millis: u32) -> proto::LeaseArticlesRequest {
    proto::LeaseArticlesRequest {
        worker_id: "test".to_string(),
        max_articles: 1,
        lease_seconds,
        wait_millis,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_is_handed_out_again_and_the_stale_one_refused() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(data_dir.path(), 0).await;
    let submitted = server
        .articles()
        .await
        .submit_article(text_request(ARTICLE, None))
        .await
        .expect("submit")
        .into_inner();
    let mut workers = server.workers().await;
    let first = workers
        .lease_articles(lease_request(1, 0))
        .await
        .expect("lease")
        .into_inner()
        .articles;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].article_id, submitted.article_id);
    assert_eq!(first[0].attempt, 1);

    // Not completed: after its deadline the same article is leased again.
    let second = workers
        .lease_articles(lease_request(30, 10_000))
        .await
        .expect("lease again")
        .into_inner()
        .articles;
    assert_eq!(second.len(), 1, "the expired lease is handed out again");
    assert_eq!(second[0].article_id, submitted.article_id);
    assert_eq!(second[0].attempt, 2);
    assert_ne!(second[0].lease_id, first[0].lease_id);

    let extraction: proto::Extraction = Extractor::new()
        .extract(&dialogwatch_worker::ArticleInput {
            text: &second[0].content,
            ..Default::default()
        })
        .into();
    let stale = workers
        .complete_article(proto::CompleteArticleRequest {
            article_id: first[0].article_id.clone(),
            lease_id: first[0].lease_id.clone(),
            extraction: Some(extraction.clone()),
        })
        .await
        .expect_err("stale lease refused");
    assert_eq!(stale.code(), tonic::Code::FailedPrecondition);
    workers
        .complete_article(proto::CompleteArticleRequest {
            article_id: second[0].article_id.clone(),
            lease_id: second[0].lease_id.clone(),
            extraction: Some(extraction),
        })
        .await
        .expect("current lease completes");
    let article = wait_until_settled(&mut server.articles().await, &submitted.article_id).await;
    assert_eq!(article.state(), proto::ArticleState::Done);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_article_is_dead_lettered_with_its_error_after_the_retry_bound() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(data_dir.path(), 0).await;
    let submitted = server
        .articles()
        .await
        .submit_article(text_request(ARTICLE, None))
        .await
        .expect("submit")
        .into_inner();
    let mut workers = server.workers().await;
    let max_attempts = crate::common::store_config(data_dir.path()).max_attempts;
    for attempt in 1..=max_attempts {
        let leased = workers
            .lease_articles(lease_request(30, 10_000))
            .await
            .expect("lease")
            .into_inner()
            .articles;
        assert_eq!(leased.len(), 1, "attempt {attempt} is offered");
        assert_eq!(leased[0].attempt, attempt);
        let outcome = workers
            .fail_article(proto::FailArticleRequest {
                article_id: leased[0].article_id.clone(),
                lease_id: leased[0].lease_id.clone(),
                error: format!("boom {attempt}"),
            })
            .await
            .expect("fail")
            .into_inner();
        assert_eq!(outcome.dead_lettered, attempt == max_attempts);
        assert_eq!(outcome.retry_time.is_some(), attempt < max_attempts);
    }
    let article = server
        .articles()
        .await
        .get_article(proto::GetArticleRequest {
            article_id: submitted.article_id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(article.state(), proto::ArticleState::DeadLettered);
    assert_eq!(
        article.last_error.as_deref(),
        Some(format!("boom {max_attempts}").as_str())
    );
    assert_eq!(article.attempts, max_attempts);
    let nothing = workers
        .lease_articles(lease_request(30, 300))
        .await
        .expect("lease")
        .into_inner()
        .articles;
    assert!(nothing.is_empty(), "a dead letter is not offered again");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_worker_process_rides_out_server_restarts() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let mut server = TestServer::start(data_dir.path(), 0).await;
    let address = server.address;
    let worker = std::process::Command::new(env!("CARGO_BIN_EXE_dialogwatch"))
        .args(["worker", "--server", &server.url(), "--concurrency", "2"])
        .env("DIALOGWATCH_LOG", "warn")
        .spawn()
        .expect("start the worker process");
    let mut guard = ChildGuard(worker);
    // Each restart closes the connections under the worker's calls (its
    // lease long polls, a completion in flight): it must retry, not exit.
    for (round, (_, text, _)) in dev_corpus().into_iter().enumerate() {
        let mut articles = server.articles().await;
        let submitted = articles
            .submit_article(text_request(&text, None))
            .await
            .expect("submit")
            .into_inner();
        let article = wait_until_settled(&mut articles, &submitted.article_id).await;
        assert_eq!(article.state(), proto::ArticleState::Done, "round {round}");
        server.stop().await;
        assert!(
            guard.0.try_wait().expect("worker status").is_none(),
            "the worker process is still running after restart {round}"
        );
        server = TestServer::start_at(data_dir.path(), 0, address).await;
    }
    server.stop().await;
    assert!(guard.0.try_wait().expect("worker status").is_none());
}

/// Kills the child process when the test ends, pass or fail.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_worker_process_processes_the_articles() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(data_dir.path(), 0).await;
    let mut articles = server.articles().await;
    let mut submitted = Vec::new();
    for (_, text, gold) in dev_corpus() {
        let response = articles
            .submit_article(text_request(&text, None))
            .await
            .expect("submit")
            .into_inner();
        submitted.push((response.article_id, gold));
    }
    let worker = std::process::Command::new(env!("CARGO_BIN_EXE_dialogwatch"))
        .args(["worker", "--server", &server.url(), "--concurrency", "2"])
        .env("DIALOGWATCH_LOG", "warn")
        .spawn()
        .expect("start the worker process");
    let _guard = ChildGuard(worker);
    let expected_events: usize = submitted
        .iter()
        .map(|(_, gold)| gold["events"].as_array().map_or(0, Vec::len))
        .sum();
    let mut feed = server
        .dialogues()
        .await
        .watch_dialogues(proto::WatchDialoguesRequest::default())
        .await
        .expect("watch")
        .into_inner();
    let events = tokio::time::timeout(PATIENCE, take_events(&mut feed, expected_events))
        .await
        .expect("events in time");
    assert_eq!(events.len(), expected_events);
    for (article_id, _) in &submitted {
        let article = wait_until_settled(&mut articles, article_id).await;
        assert_eq!(article.state(), proto::ArticleState::Done);
        assert!(!article.dialogue_ids.is_empty());
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_hands_held_leases_back_without_counting_the_attempt() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(data_dir.path(), 0).await;
    let submitted = server
        .articles()
        .await
        .submit_article(text_request(ARTICLE, None))
        .await
        .expect("submit")
        .into_inner();
    let held = server
        .workers()
        .await
        .lease_articles(lease_request(3600, 0))
        .await
        .expect("lease")
        .into_inner()
        .articles;
    assert_eq!(held.len(), 1, "a remote worker holds an hour-long lease");
    server.stop().await;

    let restarted = TestServer::start(data_dir.path(), 0).await;
    let status = restarted
        .articles()
        .await
        .get_article(proto::GetArticleRequest {
            article_id: submitted.article_id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(status.state, proto::ArticleState::Queued as i32);
    assert_eq!(status.attempts, 0, "the interrupted attempt does not count");
    let mut workers = restarted.workers().await;
    // Ready at once (no wait), not after the hour the old lease had left.
    let again = workers
        .lease_articles(lease_request(30, 0))
        .await
        .expect("lease after restart")
        .into_inner()
        .articles;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].article_id, submitted.article_id);
    assert_eq!(again[0].attempt, 1);
    let stale = workers
        .fail_article(proto::FailArticleRequest {
            article_id: held[0].article_id.clone(),
            lease_id: held[0].lease_id.clone(),
            error: "late report from the old lease".to_string(),
        })
        .await
        .expect_err("the handed-back lease is no longer held");
    assert_eq!(stale.code(), tonic::Code::FailedPrecondition);
    restarted.stop().await;
}
