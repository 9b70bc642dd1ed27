//! Slow, stalled and departing subscribers; streams across shutdown.

use crate::common::{
    complete_synthetically, distinct_requests, store_config, take_events, TestServer, PATIENCE,
};
use dialogwatch::proto;
use dialogwatch::ServerConfig;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// Copies bytes until `frozen` is set, then swallows everything without
/// answering, keeping the socket open.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if frozen.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// A TCP proxy to `target` that can go silent: a peer that vanished without
/// closing its connection (a dead connection).
async fn freezing_proxy(
    target: std::net::SocketAddr,
    frozen: Arc<AtomicBool>,
) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let address = listener.local_addr().expect("proxy address");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                continue;
            };
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::spawn(pump(client_read, server_write, Arc::clone(&frozen)));
            tokio::spawn(pump(server_read, client_write, Arc::clone(&frozen)));
        }
    });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalive_closes_a_dead_connection_and_frees_its_subscription() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        workers: 0,
        keepalive_interval: Duration::from_millis(500),
        keepalive_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    };
    let server = TestServer::start_with_metrics(store_config(data_dir.path()), config).await;
    let frozen = Arc::new(AtomicBool::new(false));
    let proxy = freezing_proxy(server.address, Arc::clone(&frozen)).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{proxy}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect through the proxy");
    let _stream = proto::dialogue_service_client::DialogueServiceClient::new(channel)
        .watch_dialogues(proto::WatchDialoguesRequest::default())
        .await
        .expect("watch")
        .into_inner();
    let metrics = server.metrics_address.expect("metrics");
    let subscribers = || async move {
        let mut stream = tokio::net::TcpStream::connect(metrics)
            .await
            .expect("metrics");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await
            .expect("scrape");
        let mut body = String::new();
        stream.read_to_string(&mut body).await.expect("read");
        body.lines()
            .find_map(|line| line.strip_prefix("dialogwatch_subscribers "))
            .and_then(|value| value.trim().parse::<u64>().ok())
            .unwrap_or(u64::MAX)
    };
    assert_eq!(subscribers().await, 1);
    frozen.store(true, Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while subscribers().await != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the dead connection was never closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop().await;
}
