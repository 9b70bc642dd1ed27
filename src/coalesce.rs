//! Write coalescing for the server's connections.
//!
//! h2, the HTTP/2 layer under tonic, writes a DATA frame of more than 256
//! bytes on its own: before it buffers the next frame it flushes the
//! connection, so every streamed message costs one `writev` and one TCP
//! segment. A feed event fanned out to a thousand subscribers over ten
//! connections was a thousand `writev` calls (`perf stat -e
//! syscalls:sys_enter_writev` on the server: 40,040 in 4 s at 10 events/s),
//! and those calls were the largest part of the server's CPU.
//!
//! [`CoalescedWrites`] takes h2's writes into a buffer and writes them out
//! once per poll of the connection instead. A flush with bytes waiting is put
//! off, and the connection's task is woken so that it runs again right after;
//! the next read writes out everything buffered by then, before it reads (h2
//! reads the socket first thing in a poll, and a TLS handshake reads after
//! each flight it sends). So whatever the streams of a connection queued
//! meanwhile goes out in one write, at the cost of one trip through the
//! scheduler. A flush also writes out once [`WRITE_OUT_AT`] bytes wait or a
//! flush was put off for [`WRITE_OUT_AFTER`], and a shutdown always does. A
//! write of [`PASS_THROUGH_FROM`] bytes or more (a replay's full frames) is
//! not copied: it follows what waits straight to the socket.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes buffered at which a write or flush writes out at once.
pub const WRITE_OUT_AT: usize = 64 * 1024;

/// A write of at least this many bytes is not copied: what waits is written
/// out, then the write goes to the socket as it is (a replay's 16 KB frames
/// gain nothing from the buffer, and the copy cost them about a tenth).
pub const PASS_THROUGH_FROM: usize = 8 * 1024;

/// A flush put off for this long writes out at the next flush.
pub const WRITE_OUT_AFTER: Duration = Duration::from_micros(50);

/// Buffer capacity kept between bursts (a larger buffer is freed once written
/// out, so an idle connection holds little).
const KEPT_CAPACITY: usize = 16 * 1024;

/// An I/O stream whose writes are buffered and written out once per poll of
/// its task (see the module docs). Reads pass through.
#[derive(Debug)]
pub struct CoalescedWrites<S> {
    inner: S,
    /// Bytes accepted and not yet written out; `pending[..written_out]` were.
    pending: Vec<u8>,
    written_out: usize,
    /// When a flush was first put off since the last write-out.
    put_off: Option<Instant>,
    /// How long a flush may be put off ([`WRITE_OUT_AFTER`] unless set).
    write_out_after: Duration,
}

impl<S> CoalescedWrites<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        CoalescedWrites {
            inner,
            pending: Vec::new(),
            written_out: 0,
            put_off: None,
            write_out_after: WRITE_OUT_AFTER,
        }
    }

    /// The same stream with flushes put off for at most `write_out_after`
    /// instead of [`WRITE_OUT_AFTER`] (tests that count writes make it long,
    /// so that a slow machine does not write out on time).
    pub fn with_write_out_after(self, write_out_after: Duration) -> Self {
        CoalescedWrites {
            write_out_after,
            ..self
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    fn accept(&mut self, bytes: &[u8]) {
        if self.pending.is_empty() {
            self.pending.reserve(bytes.len().max(KEPT_CAPACITY));
        }
        self.pending.extend_from_slice(bytes);
    }
}

impl<S: AsyncWrite + Unpin> CoalescedWrites<S> {
    /// Writes out everything buffered.
    fn poll_write_out(&mut self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written_out < self.pending.len() {
            let unwritten = &self.pending[self.written_out..];
            let written = ready!(Pin::new(&mut self.inner).poll_write(context, unwritten))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written_out += written;
        }
        if self.pending.capacity() > KEPT_CAPACITY {
            self.pending = Vec::new();
        } else {
            self.pending.clear();
        }
        self.written_out = 0;
        self.put_off = None;
        Poll::Ready(Ok(()))
    }

    /// Whether a flush now should write out: a full buffer, or a flush put
    /// off long enough. Otherwise the flush is put off and the task woken,
    /// so that it reads (and so writes out) soon.
    fn flush_now(&mut self, context: &mut Context<'_>) -> bool {
        if self.pending.len() >= WRITE_OUT_AT {
            return true;
        }
        let since = *self.put_off.get_or_insert_with(Instant::now);
        if since.elapsed() >= self.write_out_after {
            return true;
        }
        context.waker().wake_by_ref();
        false
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for CoalescedWrites<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // What was written before this read goes out first; a socket that
        // cannot take it now does not hold the read up (it is retried at the
        // next read, flush or shutdown).
        if !this.pending.is_empty() {
            if let Poll::Ready(Err(error)) = this.poll_write_out(context) {
                return Poll::Ready(Err(error));
            }
        }
        Pin::new(&mut this.inner).poll_read(context, buffer)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for CoalescedWrites<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(context, &[io::IoSlice::new(bytes)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        slices: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let length: usize = slices.iter().map(|slice| slice.len()).sum();
        if length >= PASS_THROUGH_FROM {
            ready!(this.poll_write_out(context))?;
            return Pin::new(&mut this.inner).poll_write_vectored(context, slices);
        }
        if this.pending.len() >= WRITE_OUT_AT {
            ready!(this.poll_write_out(context))?;
        }
        let mut accepted = 0;
        for slice in slices {
            this.accept(slice);
            accepted += slice.len();
        }
        Poll::Ready(Ok(accepted))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.pending.is_empty() {
            if !this.flush_now(context) {
                return Poll::Ready(Ok(()));
            }
            ready!(this.poll_write_out(context))?;
        }
        Pin::new(&mut this.inner).poll_flush(context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_out(context))?;
        Pin::new(&mut this.inner).poll_shutdown(context)
    }
}

impl tonic::transport::server::Connected for CoalescedWrites<tokio::net::TcpStream> {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A writer that records each write it is given (what would be one syscall).
    #[derive(Default)]
    struct RecordingWriter {
        writes: Vec<Vec<u8>>,
    }

    impl AsyncWrite for RecordingWriter {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bytes: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().writes.push(bytes.to_vec());
            Poll::Ready(Ok(bytes.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncRead for RecordingWriter {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Pending
        }
    }

    /// What h2 does in one poll: a write and a flush per frame.
    fn write_frames(
        stream: &mut CoalescedWrites<RecordingWriter>,
        context: &mut Context<'_>,
        frames: &[&[u8]],
    ) {
        for frame in frames {
            assert!(matches!(
                Pin::new(&mut *stream).poll_write(context, frame),
                Poll::Ready(Ok(length)) if length == frame.len()
            ));
            assert!(matches!(
                Pin::new(&mut *stream).poll_flush(context),
                Poll::Ready(Ok(()))
            ));
        }
    }

    fn a_read(stream: &mut CoalescedWrites<RecordingWriter>, context: &mut Context<'_>) {
        let mut space = [0u8; 16];
        let mut buffer = ReadBuf::new(&mut space);
        assert!(Pin::new(&mut *stream)
            .poll_read(context, &mut buffer)
            .is_pending());
    }

    /// A flush put off longer than any test runs: writes are counted without
    /// the time bound writing out early on a slow or crowded machine.
    const NEVER_ON_TIME: Duration = Duration::from_secs(3600);

    fn counted_stream() -> CoalescedWrites<RecordingWriter> {
        CoalescedWrites::new(RecordingWriter::default()).with_write_out_after(NEVER_ON_TIME)
    }

    #[test]
    fn the_frames_of_one_poll_go_out_in_one_write_at_the_next_read() {
        let mut context = Context::from_waker(std::task::Waker::noop());
        let mut stream = counted_stream();
        a_read(&mut stream, &mut context);
        write_frames(&mut stream, &mut context, &[b"one ", b"two ", b"three"]);
        assert!(stream.get_ref().writes.is_empty(), "nothing written yet");
        // The next poll reads first.
        a_read(&mut stream, &mut context);
        assert_eq!(stream.get_ref().writes, vec![b"one two three".to_vec()]);
        write_frames(&mut stream, &mut context, &[b"four"]);
        a_read(&mut stream, &mut context);
        assert_eq!(stream.get_ref().writes.len(), 2);
    }

    #[test]
    fn a_put_off_flush_wakes_the_task() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        struct Counting(AtomicUsize);
        impl std::task::Wake for Counting {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let woken = Arc::new(Counting(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(Arc::clone(&woken));
        let mut context = Context::from_waker(&waker);
        let mut stream = counted_stream();
        write_frames(&mut stream, &mut context, &[b"frame"]);
        assert!(woken.0.load(Ordering::SeqCst) >= 1);
    }

    #[test]
    fn a_flush_put_off_long_enough_writes_out_without_a_read() {
        let mut context = Context::from_waker(std::task::Waker::noop());
        let mut stream = CoalescedWrites::new(RecordingWriter::default());
        write_frames(&mut stream, &mut context, &[b"frame"]);
        std::thread::sleep(WRITE_OUT_AFTER * 2);
        assert!(Pin::new(&mut stream).poll_flush(&mut context).is_ready());
        assert_eq!(stream.get_ref().writes, vec![b"frame".to_vec()]);
    }

    #[test]
    fn a_full_buffer_writes_out_at_once_and_shutdown_writes_the_rest() {
        let mut context = Context::from_waker(std::task::Waker::noop());
        let mut stream = counted_stream();
        let frame = vec![7u8; PASS_THROUGH_FROM - 1];
        let count = WRITE_OUT_AT / frame.len() + 1;
        let frames: Vec<&[u8]> = (0..count).map(|_| frame.as_slice()).collect();
        write_frames(&mut stream, &mut context, &frames);
        assert_eq!(stream.get_ref().writes.len(), 1, "written once full");
        write_frames(&mut stream, &mut context, &[b"tail"]);
        assert!(Pin::new(&mut stream).poll_shutdown(&mut context).is_ready());
        let written: Vec<u8> = stream.get_ref().writes.concat();
        assert_eq!(written.len(), frame.len() * count + 4);
        assert!(written.ends_with(b"tail"));
    }

    #[test]
    fn a_large_write_follows_what_waits_and_is_not_copied() {
        let mut context = Context::from_waker(std::task::Waker::noop());
        let mut stream = counted_stream();
        write_frames(&mut stream, &mut context, &[b"small"]);
        let large = vec![1u8; PASS_THROUGH_FROM];
        assert!(matches!(
            Pin::new(&mut stream).poll_write(&mut context, &large),
            Poll::Ready(Ok(length)) if length == large.len()
        ));
        assert_eq!(stream.get_ref().writes, vec![b"small".to_vec(), large]);
        assert!(stream.pending.is_empty());
    }

    /// Two ends of a loopback TCP connection: (the accepted one, the connecting one).
    async fn socket_pair() -> (tokio::net::TcpStream, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let (accepted, connected) =
            tokio::join!(listener.accept(), tokio::net::TcpStream::connect(address));
        (accepted.expect("accept").0, connected.expect("connect"))
    }

    /// A write, a flush, then a wait for the peer's answer (a TLS handshake's
    /// flight, or a request and its response): the read writes out what the
    /// flush put off, so the peer answers.
    #[tokio::test]
    async fn a_read_after_a_put_off_flush_sends_what_waits() {
        let (mut peer, socket) = socket_pair().await;
        let answering = tokio::spawn(async move {
            for _ in 0..100 {
                let mut question = [0u8; 4];
                peer.read_exact(&mut question).await.expect("question");
                assert_eq!(&question, b"ping");
                peer.write_all(b"pong").await.expect("answer");
            }
        });
        let mut stream = CoalescedWrites::new(socket);
        let exchanges = async {
            for _ in 0..100 {
                stream.write_all(b"ping").await.expect("write");
                stream.flush().await.expect("flush");
                let mut answer = [0u8; 4];
                stream.read_exact(&mut answer).await.expect("answer");
                assert_eq!(&answer, b"pong");
            }
        };
        tokio::time::timeout(Duration::from_secs(10), exchanges)
            .await
            .expect("every question was sent and answered");
        answering.await.expect("peer");
    }

    /// The `number`-th frame of the socket test: mostly small (buffered),
    /// every 50th larger than [`PASS_THROUGH_FROM`] (written as it is).
    fn test_frame(number: u32) -> Vec<u8> {
        let length = if number % 50 == 0 {
            PASS_THROUGH_FROM + number as usize
        } else {
            (number as usize * 37) % 700 + 1
        };
        vec![(number % 251) as u8; length]
    }

    /// Over a real socket, with the writer's task never reading: every byte
    /// arrives, in order (the time bound writes out what waits).
    #[tokio::test]
    async fn bytes_arrive_in_order_over_a_socket_without_reads() {
        let (socket, mut receiver) = socket_pair().await;
        let sending = tokio::spawn(async move {
            let mut stream = CoalescedWrites::new(socket);
            for number in 0u32..2000 {
                stream.write_all(&test_frame(number)).await.expect("write");
                stream.flush().await.expect("flush");
            }
            // Wait for the last flush to go out without a shutdown.
            let mut flushed = false;
            for _ in 0..1000 {
                stream.flush().await.expect("flush");
                if stream.pending.is_empty() {
                    flushed = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            assert!(flushed, "the buffer was written out");
            stream
        });
        let expected: Vec<u8> = (0u32..2000).flat_map(test_frame).collect();
        let mut received = vec![0u8; expected.len()];
        receiver.read_exact(&mut received).await.expect("read");
        assert!(received == expected, "bytes arrive whole and in order");
        drop(sending.await.expect("sender"));
    }
}
