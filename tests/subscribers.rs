//! Slow, stalled and departing subscribers; streams across shutdown.

use crate::common::{
    complete_synthetically, distinct_requests, store_config, take_events, TestServer, PATIENCE,
};
use dialogwatch::proto;
use dialogwatch::ServerConfig;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscriber_slows_neither_submissions_nor_other_subscribers() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(data_dir.path(), 0).await;
    // Each subscriber is its own client service: its own connection.
    let watch = || {
        let connecting = server.dialogues();
        async move {
            let mut client = connecting.await;
            client
                .watch_dialogues(proto::WatchDialoguesRequest::default())
                .await
                .expect("watch")
                .into_inner()
        }
    };
    // Opened and never read until the very end.
    let mut stalled = watch().await;
    let mut live = Vec::new();
    for _ in 0..100 {
        live.push(watch().await);
    }
    const EVENTS: usize = 300;
    let results = server
        .articles()
        .await
        .submit_articles(tokio_stream::iter(distinct_requests(EVENTS, "stall")))
        .await
        .expect("bulk submit")
        .into_inner()
        .results;
    assert_eq!(results.len(), EVENTS);
    complete_synthetically(&server, EVENTS, "SG", 1).await;

    let readers: Vec<_> = live
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                let events = take_events(&mut stream, EVENTS).await;
                events
                    .iter()
                    .map(|event| event.sequence)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let expected: Vec<u64> = (1..=EVENTS as u64).collect();
    for reader in readers {
        assert_eq!(reader.await.expect("reader"), expected);
    }
    // The stalled subscriber lost nothing either.
    let late: Vec<u64> = take_events(&mut stalled, EVENTS)
        .await
        .iter()
        .map(|event| event.sequence)
        .collect();
    assert_eq!(late, expected);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscriber_limit_holds_and_a_departing_client_frees_its_slot() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        workers: 0,
        max_subscribers: 2,
        ..ServerConfig::default()
    };
    let server = TestServer::start_with(store_config(data_dir.path()), config).await;
    let mut client = server.dialogues().await;
    let first = client
        .watch_dialogues(proto::WatchDialoguesRequest::default())
        .await
        .expect("first");
    let _second = client
        .watch_dialogues(proto::WatchDialoguesRequest::default())
        .await
        .expect("second");
    let refused = client
        .watch_dialogues(proto::WatchDialoguesRequest::default())
        .await
        .expect_err("over the limit");
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);

    drop(first);
    // The server notices the reset stream and releases the slot.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match client
            .watch_dialogues(proto::WatchDialoguesRequest::default())
            .await
        {
            Ok(_) => break,
            Err(status) => {
                assert_eq!(status.code(), tonic::Code::ResourceExhausted);
                assert!(tokio::time::Instant::now() < deadline, "slot never freed");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_streams_with_unavailable_and_the_sequence_to_resume_from() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(data_dir.path(), 0).await;
    server
        .articles()
        .await
        .submit_articles(tokio_stream::iter(distinct_requests(3, "shutdown")))
        .await
        .expect("submit");
    complete_synthetically(&server, 3, "JP", 1).await;
    let mut stream = server
        .dialogues()
        .await
        .watch_dialogues(proto::WatchDialoguesRequest::default())
        .await
        .expect("watch")
        .into_inner();
    take_events(&mut stream, 3).await;
    server.stop().await;
    let ending = tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("the stream ends");
    let status = ending.expect_err("ended with a status");
    assert_eq!(status.code(), tonic::Code::Unavailable);
    assert!(
        status.message().contains("from_sequence=3"),
        "{}",
        status.message()
    );
}
