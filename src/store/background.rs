//! A thread of its own, at a lower scheduling priority, for the store's
//! background maintenance (the search indexer's segments and compactions).
//!
//! That work can wait; the path from a submission to a subscriber cannot.
//! On the blocking pool the indexer competed with the completions on equal
//! terms: at 1000 articles/s it took about 100 ms of a core every 350 ms,
//! and its compactions 110–300 ms at once, during which the extractions and
//! completions queued (the end-to-end benchmark's slowest deliveries fell
//! there; BENCHMARKS.md). On this thread, niced to [`BACKGROUND_NICE`], the
//! scheduler gives the indexer what the completions leave, and it catches up
//! when they slow down. Nothing waits
//! for it to be correct: a search indexes whatever is still marked itself
//! (on its own thread, at normal priority), and the backlog is exported as
//! `dialogwatch_search_backlog_records`.
//!
//! The lower priority is per thread (Linux keeps a nice value per thread);
//! an unprivileged process cannot raise it again, which is why the work
//! has a thread of its own rather than borrowing one of the blocking pool.

use super::StoreError;
use std::sync::mpsc;
use std::sync::Mutex;
use tokio::sync::oneshot;

/// How much nicer than the process the background thread runs: at 10
/// against 0 it gets about a tenth of the CPU share of a thread at normal
/// priority when both want to run (the kernel's weights are 110 and 1024),
/// so it is neither starved under a steady load nor in the way of the
/// completions.
pub(super) const BACKGROUND_NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// The thread, and the channel its jobs come through.
pub(super) struct BackgroundThread {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl BackgroundThread {
    /// Starts the thread, named `name`, `nice` steps nicer than the process
    /// (when the system allows it; else at the process's priority, with a
    /// warning).
    pub(super) fn start(name: &str, nice: i32) -> Result<Self, StoreError> {
        let (jobs, received) = mpsc::channel::<Job>();
        let thread_name = name.to_string();
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                if let Err(error) = lower_this_threads_priority(nice) {
                    tracing::warn!(thread = %thread_name, nice, %error, "cannot lower the priority of a background thread; it runs at the process's");
                }
                // Ends when every sender is gone (the store dropped or closed).
                for job in received {
                    job();
                }
            })
            .map_err(|error| StoreError::Task(format!("starting the {name} thread: {error}")))?;
        Ok(BackgroundThread {
            jobs: Mutex::new(Some(jobs)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Runs `work` on the thread and waits for its result. A panic in it is
    /// an error of this call; the thread goes on with the next job.
    pub(super) async fn run<Output: Send + 'static>(
        &self,
        work: impl FnOnce() -> Output + Send + 'static,
    ) -> Result<Output, StoreError> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            // The caller may have stopped waiting: nobody to tell then.
            let _ = answer.send(outcome);
        });
        let sent = match self.jobs.lock() {
            Ok(jobs) => jobs.as_ref().is_some_and(|jobs| jobs.send(job).is_ok()),
            Err(_) => false,
        };
        if !sent {
            return Err(StoreError::Closed);
        }
        match answered.await {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(_)) => Err(StoreError::Task("a background job panicked".into())),
            Err(_) => Err(StoreError::Task("the background thread ended".into())),
        }
    }

    /// Takes no more jobs and waits for the thread to finish the one it is
    /// in (call it once nobody waits for a job any more).
    pub(super) async fn stop(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut slot| slot.take());
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// Raises the calling thread's nice value by `increment` (at most to 19).
/// Linux keeps a nice value per thread, and `PRIO_PROCESS` with 0 names the
/// calling thread.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn lower_this_threads_priority(increment: i32) -> std::io::Result<()> {
    let current = this_threads_nice()?;
    let target = current.saturating_add(increment).min(19);
    // SAFETY: setpriority takes no pointers.
    let status = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, target) };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The calling thread's nice value.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn this_threads_nice() -> std::io::Result<i32> {
    // getpriority may return -1 as a value: errno tells an error apart.
    // SAFETY: __errno_location returns this thread's errno, always valid;
    // getpriority takes no pointers.
    let nice = unsafe {
        *libc::__errno_location() = 0;
        libc::getpriority(libc::PRIO_PROCESS, 0)
    };
    let error = std::io::Error::last_os_error();
    if nice == -1 && error.raw_os_error().is_some_and(|code| code != 0) {
        return Err(error);
    }
    Ok(nice)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn lower_this_threads_priority(_nice: i32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_in_order_on_one_thread_and_a_panic_fails_only_its_own() {
        let background =
            BackgroundThread::start("test-background", BACKGROUND_NICE).expect("thread starts");
        let first = background
            .run(|| std::thread::current().name().map(str::to_string))
            .await
            .expect("runs");
        assert_eq!(first.as_deref(), Some("test-background"));
        let panicked = background.run(|| -> u32 { panic!("a failing job") }).await;
        assert!(
            matches!(panicked, Err(StoreError::Task(ref message)) if message.contains("panicked")),
            "{panicked:?}"
        );
        let after = background.run(|| 6 * 7).await.expect("the thread goes on");
        assert_eq!(after, 42);
        background.stop().await;
        assert!(matches!(
            background.run(|| ()).await,
            Err(StoreError::Closed)
        ));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[tokio::test]
    async fn the_thread_runs_at_the_lower_priority_and_others_do_not() {
        let background =
            BackgroundThread::start("test-nice", BACKGROUND_NICE).expect("thread starts");
        let before = this_threads_nice().expect("nice value");
        let inside = background
            .run(this_threads_nice)
            .await
            .expect("runs")
            .expect("nice value");
        assert_eq!(inside, (before + BACKGROUND_NICE).min(19));
        assert_eq!(
            this_threads_nice().expect("nice value"),
            before,
            "only the background thread"
        );
        background.stop().await;
    }
}
