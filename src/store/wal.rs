//! The write-ahead log: what makes the store's writes durable and atomic.
//!
//! Every change to the sled trees is one **record** of the log — the list of
//! inserts and removes a verb makes — appended before the changes are applied
//! to sled with plain (non-transactional) writes. A verb's writes are on disk
//! once the log is synced ([`WriteAheadLog::sync`], shared by concurrent
//! callers through the group commit); sled itself is flushed only in the
//! background and at checkpoints.
//!
//! Why not sled's transactions and `flush`: in sled 0.34 a transaction (and
//! a `Batch`) takes a process-wide exclusive lock that `flush` holds shared
//! for the whole write and fsync of sled's log. Every completion, lease and
//! submission then waited for the flush in progress, so the store did one
//! write verb per fsync however many cores were idle. Plain writes and the
//! log's own fsync do not exclude each other.
//!
//! Layout: `<data>/wal/NNNNNNNNNNNNNNNNNNNN.wal` segments, each a run of
//! records `length u32 | crc32 u32 | changes` (big-endian), a change being
//! `tree u8 | kind u8 (1 insert, 0 remove) | key length u32 | key [| value
//! length u32 | value]`.
//!
//! Recovery (at open): the records of every segment are applied again, in
//! order, up to the first torn or corrupt one (a crash mid-append); then sled
//! is flushed and the segments are deleted. Applying again is safe: records
//! hold blind writes, so replaying all of them since the last checkpoint, in
//! the order they were made, over whatever part of them sled kept, gives the
//! state after the last one. That order is the order they were applied in
//! because writes to the same key are made under one lock (the store's writer
//! lock, or the indexing lock for search segments).
//!
//! **Deferred changes**: the changes of a record to a tree that no verb
//! reads under the writer lock ([`TreeId::applies_after_the_lock`]: the
//! ListDialogues index) can be applied after the writer lets go of the lock
//! ([`WriteAheadLog::write_deferring`]), so the next completion is worked
//! out while they go into sled. They are applied in the order their records
//! were written (the `in_order` lock is taken before the writer lock is let
//! go, and every later write to such a tree takes it too), a checkpoint waits
//! for them (their record counts as unapplied), and a read of such a tree waits, holding
//! [`WriteAheadLog::whole_records`], until none is outstanding
//! ([`WriteAheadLog::wait_for_deferred`]): it then sees whole records, as before.
//!
//! **Preallocation**: a sync of a file that grew (new blocks, a new length)
//! commits the file system's journal too; a sync of bytes written over blocks
//! already allocated and written does not, and took half as long here (92
//! against 174 µs for a 12 KB record on ext4, see BENCHMARKS.md). So the
//! current segment is kept zeroed [`PREALLOCATE_AHEAD`] bytes past its last
//! record ([`WriteAheadLog::preallocate`], run by the group commit's zeroer
//! when a write asks for it), and records are written at their offset
//! instead of appended. Zeros are never a record: no record is empty, so a
//! zero length (or a tail of zeros too short to hold one) ends the segment,
//! cleanly when only zeros follow. A range is
//! zeroed outside the log's lock; a record that would reach into it waits.
//!
//! **Checkpoint**: once a segment holds [`CHECKPOINT_BYTES`], the log moves on
//! to a new segment, waits until every record appended to the old one is
//! wholly in sled, flushes sled, syncs the value log, and deletes the old
//! segments. Writes go on into the new segment meanwhile: records not yet
//! applied are counted per segment ([`Unapplied`]), so the checkpoint waits
//! only for those of the segments it retires. (It used to take a lock that
//! every write holds from append to apply, exclusively: a search compaction
//! step applying thousands of keys then held up every write behind the
//! waiting checkpoint, for up to 70 ms.) A record that could not be applied
//! (an I/O error, a panic) fails every later checkpoint: sled lacks changes
//! that only the log holds, which the next open applies again.
//!
//! **Separated values**: a large value of a tree that holds record-sized
//! values (records, reports, feed events, search segments:
//! [`TreeId::separates_values`]) is appended to the **value log**
//! (`<data>/values/`, a [`TextLog`]) and sled holds only a 21-byte reference to it ([`SEPARATED_MARK`], then the
//! [`TextRef`]). sled copies a whole leaf (up to 16 values) on every insert
//! into it and rewrites it every few inserts, so a 4 KB value cost several
//! times its size in CPU and disk writes; a short reference does not. The
//! log record keeps the value itself beside its reference (change kind 2), so
//! the value log needs no sync of its own on the write path: replay writes
//! the value back at its place, and a checkpoint syncs the value log before
//! it deletes the records that could restore it (and, so that it has little
//! left to write then, the group commit's background task syncs the value
//! log whenever [`VALUES_SYNC_BYTES`] are unsynced). Readers of those trees go
//! through [`WriteAheadLog::resolve`]. A value stored inline before (or below
//! the size) reads as it is: the mark cannot begin a JSON or protobuf value.

use super::records::TreeId;
use super::texts::{numbered_files, sync_directory, TextLog, TextRef, TEXT_REF_BYTES};
use super::{StoreError, Trees};
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use tokio::sync::Notify;

/// The directory of the log, under the data directory.
pub(super) const WAL_DIRECTORY: &str = "wal";

/// Segment size after which a checkpoint is due.
pub(super) const CHECKPOINT_BYTES: u64 = 64 << 20;

/// Zeroed bytes kept ahead of the current segment's last record (see
/// preallocation in the module documentation); a write asks for more when
/// fewer than half are left.
pub(super) const PREALLOCATE_AHEAD: u64 = 4 << 20;

/// Bytes zeroed, and synced, at a time.
pub(super) const PREALLOCATE_STEP: u64 = 1 << 20;

/// Unsynced bytes of the value log after which a background sync is asked
/// for (see separated values in the module documentation).
pub(super) const VALUES_SYNC_BYTES: u64 = 4 << 20;

/// The directory of the value log, under the data directory.
pub(super) const VALUES_DIRECTORY: &str = "values";

/// Values of at least this many bytes, in a tree that separates them, go to
/// the value log (a reference costs 21 bytes in sled, and a read of it one
/// `pread`).
pub(super) const SEPARATE_FROM_BYTES: usize = 512;

/// The first byte of a separated value's reference in sled: a JSON value
/// cannot start with it (not UTF-8), nor a protobuf message (wire type 7).
pub(super) const SEPARATED_MARK: u8 = 0xFF;

const RECORD_HEADER: usize = 8;
const INSERT: u8 = 1;
const REMOVE: u8 = 0;
/// An insert whose value went to the value log: the value, then its reference.
const SEPARATED: u8 = 2;

/// One change: `Some(value)` inserts, `None` removes.
pub(super) type Change = (TreeId, Vec<u8>, Option<Vec<u8>>);

/// What recovery found at open.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Recovery {
    /// Records applied again.
    pub(super) records: u64,
    /// True when the log ended in a torn or corrupt record (dropped: its
    /// verb never returned, or its caller never heard it was durable).
    pub(super) torn: bool,
}

/// The log (see the module documentation).
pub(super) struct WriteAheadLog {
    directory: PathBuf,
    checkpoint_after: u64,
    /// Where separated values go.
    values: Arc<TextLog>,
    /// The smallest value that is separated.
    separate_from: usize,
    /// Notified when the value log holds [`VALUES_SYNC_BYTES`] not synced.
    values_sync_wanted: Arc<Notify>,
    values_sync_after: u64,
    state: Mutex<LogState>,
    /// Signalled when a range being zeroed is done (a write waits on it,
    /// with `state`, when its record would reach into the range).
    zeroed: Condvar,
    /// Notified when the current segment wants more zeroed bytes ahead.
    preallocation_wanted: Arc<Notify>,
    /// Bytes kept zeroed ahead, and zeroed at a time (see [`PREALLOCATE_AHEAD`]).
    preallocate_ahead: u64,
    preallocate_step: u64,
    /// Records appended but not yet wholly in sled, per segment: a
    /// checkpoint flushes sled once those of the segments it retires are.
    unapplied: Unapplied,
    /// One checkpoint at a time.
    checkpointing: Mutex<()>,
    /// Held exclusively while a record's changes are applied to sled, and
    /// shared by reads that span several keys ([`WriteAheadLog::whole_records`]),
    /// so that they never see part of a record (sled's transactions gave
    /// readers that too). Never held across an fsync.
    visible: RwLock<()>,
    /// Held while the changes of a record to a tree that
    /// [`TreeId::applies_after_the_lock`] are applied, so that they go into
    /// sled in the order of their records (see the module documentation).
    in_order: Mutex<()>,
    /// Deferred parts not yet in sled (counted under `visible`), and whether
    /// one failed to apply; readers wait on `deferred_done`.
    deferred: Mutex<DeferredState>,
    deferred_done: Condvar,
}

/// The deferred parts outstanding (see [`WriteAheadLog::write_deferring`]).
#[derive(Debug, Default)]
struct DeferredState {
    outstanding: u64,
    /// Set when a deferred part could not be applied: sled lacks changes its
    /// log holds, which the next open applies again.
    failed: bool,
}

/// The part of a record that [`WriteAheadLog::write_deferring`] left for its
/// caller to apply, with [`DeferredChanges::apply`], once it let go of its
/// lock. Until then (or until it is dropped) the next deferred part, a
/// checkpoint and the readers of its trees wait for it.
#[must_use = "the deferred changes must be applied"]
pub(super) struct DeferredChanges<'log> {
    log: &'log WriteAheadLog,
    /// The positions, in the record's changes, of those deferred.
    positions: Vec<usize>,
    /// Counted off when dropped: a checkpoint flushes sled only after.
    applying: Applying<'log>,
    _in_order: MutexGuard<'log, ()>,
    applied: bool,
}

/// The records appended to each segment and not yet wholly applied to sled
/// (see checkpoint in the module documentation).
#[derive(Debug, Default)]
struct Unapplied {
    state: Mutex<UnappliedState>,
    /// Signalled when a segment's count drops to zero.
    drained: Condvar,
}

#[derive(Debug, Default)]
struct UnappliedState {
    /// Segment number → records appended to it and not yet applied
    /// (absent: none).
    by_segment: BTreeMap<u64, u64>,
    /// Set when a record was never wholly applied.
    failed: bool,
}

/// One record of `segment` being applied: counted off when dropped, as
/// failed unless [`Applying::applied`] was set.
struct Applying<'log> {
    unapplied: &'log Unapplied,
    segment: u64,
    applied: bool,
}

impl Unapplied {
    /// Counts a record appended to `segment` (call it holding the log's
    /// state, so that a checkpoint's switch cannot come in between).
    fn begin(&self, segment: u64) -> Result<Applying<'_>, StoreError> {
        let mut state = self.state.lock().map_err(poisoned)?;
        *state.by_segment.entry(segment).or_insert(0) += 1;
        Ok(Applying {
            unapplied: self,
            segment,
            applied: false,
        })
    }

    /// Waits until no record of a segment up to `last` is left to apply;
    /// fails when one was never applied.
    fn wait_through(&self, last: u64) -> Result<(), StoreError> {
        let mut state = self.state.lock().map_err(poisoned)?;
        while state.by_segment.range(..=last).next().is_some() {
            state = self.drained.wait(state).map_err(poisoned)?;
        }
        if state.failed {
            return Err(StoreError::Io(
                "write-ahead log: a record could not be applied to sled; the log is kept until the store is reopened".into(),
            ));
        }
        Ok(())
    }
}

impl Drop for Applying<'_> {
    fn drop(&mut self) {
        let mut state = match self.unapplied.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        state.failed |= !self.applied;
        let drained = match state.by_segment.get_mut(&self.segment) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                state.by_segment.remove(&self.segment);
                true
            }
            None => false,
        };
        drop(state);
        if drained {
            self.unapplied.drained.notify_all();
        }
    }
}

impl DeferredChanges<'_> {
    /// Applies the deferred changes of `changes` (the record given to
    /// [`WriteAheadLog::write_deferring`]) to `trees`.
    pub(super) fn apply(mut self, trees: &Trees, changes: &[Change]) -> Result<(), StoreError> {
        for position in &self.positions {
            let Some((tree, key, value)) = changes.get(*position) else {
                continue;
            };
            apply(trees, *tree, key, value.as_deref())?;
        }
        self.applied = true;
        self.applying.applied = true;
        Ok(())
    }
}

impl Drop for DeferredChanges<'_> {
    fn drop(&mut self) {
        // Counted off even when not applied (an error, a panic): readers then
        // fail rather than wait for ever.
        let mut state = match self.log.deferred.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        state.outstanding = state.outstanding.saturating_sub(1);
        state.failed |= !self.applied;
        drop(state);
        self.log.deferred_done.notify_all();
    }
}

impl std::fmt::Debug for WriteAheadLog {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WriteAheadLog")
            .field("directory", &self.directory)
            .finish_non_exhaustive()
    }
}

struct LogState {
    segment: u64,
    file: Arc<File>,
    /// Bytes of records in the current segment: where the next one goes.
    segment_bytes: u64,
    /// The current segment holds zeros, synced, from `segment_bytes` up to
    /// here (when it is further; see preallocation in the module documentation).
    zeroed_to: u64,
    /// The range of the current segment being zeroed outside the lock.
    zeroing: Option<std::ops::Range<u64>>,
    /// Zeroing the current segment failed (a full disk, say): it is not
    /// tried again before the next segment.
    zeroing_failed: bool,
}

impl LogState {
    /// A new segment's state: nothing written, nothing zeroed.
    fn new(segment: u64, file: File) -> LogState {
        LogState {
            segment,
            file: Arc::new(file),
            segment_bytes: 0,
            zeroed_to: 0,
            zeroing: None,
            zeroing_failed: false,
        }
    }

    /// Where zeroing goes on from, when fewer than `ahead` zeroed bytes are
    /// left past the last record and no zeroing is under way or has failed.
    fn zeroing_due(&self, ahead: u64) -> Option<u64> {
        let from = self.zeroed_to.max(self.segment_bytes);
        let wanted =
            self.zeroing.is_none() && !self.zeroing_failed && from - self.segment_bytes < ahead;
        wanted.then_some(from)
    }
}

fn io_error(error: std::io::Error) -> StoreError {
    StoreError::Io(format!("write-ahead log: {error}"))
}

fn values_error(error: std::io::Error) -> StoreError {
    StoreError::Io(format!("value log: {error}"))
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Task("write-ahead log lock poisoned".into())
}

fn segment_path(directory: &Path, segment: u64) -> PathBuf {
    directory.join(format!("{segment:020}.wal"))
}

/// The segments in `directory`, in order.
fn segments(directory: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    numbered_files(directory, ".wal")
}

/// Creates a segment, written at explicit offsets (not in append mode:
/// records overwrite the zeros preallocated past them).
fn create_segment(directory: &Path, segment: u64) -> std::io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(segment_path(directory, segment))?;
    sync_directory(directory)?;
    Ok(file)
}

/// The value sled holds for a value separated to `text_ref`.
fn separated_value(text_ref: TextRef) -> [u8; 1 + TEXT_REF_BYTES] {
    let mut value = [SEPARATED_MARK; 1 + TEXT_REF_BYTES];
    value[1..].copy_from_slice(&text_ref.to_bytes());
    value
}

/// The reference in a value sled holds, when it is one.
fn separated_reference(value: &[u8]) -> Option<TextRef> {
    match value.split_first() {
        Some((&SEPARATED_MARK, reference)) => TextRef::from_bytes(reference),
        _ => None,
    }
}

/// Appends one record holding `changes` to `buffer`; `separated` holds, for
/// each change, the value log reference its value went to, if it did.
fn encode_record(buffer: &mut Vec<u8>, changes: &[Change], separated: &[Option<TextRef>]) {
    let start = buffer.len();
    buffer.extend_from_slice(&[0; RECORD_HEADER]);
    for (index, (tree, key, value)) in changes.iter().enumerate() {
        let reference = separated.get(index).copied().flatten();
        buffer.push(*tree as u8);
        buffer.push(match (value, reference) {
            (None, _) => REMOVE,
            (Some(_), None) => INSERT,
            (Some(_), Some(_)) => SEPARATED,
        });
        push_bytes(buffer, key);
        if let Some(value) = value {
            push_bytes(buffer, value);
        }
        if let Some(reference) = reference {
            buffer.extend_from_slice(&reference.to_bytes());
        }
    }
    let payload = &buffer[start + RECORD_HEADER..];
    let length = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let checksum = crc32fast::hash(payload);
    buffer[start..start + 4].copy_from_slice(&length.to_be_bytes());
    buffer[start + 4..start + RECORD_HEADER].copy_from_slice(&checksum.to_be_bytes());
}

fn push_bytes(buffer: &mut Vec<u8>, bytes: &[u8]) {
    buffer.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    buffer.extend_from_slice(bytes);
}

/// Reads `length` bytes at `*at`, moving past them.
fn take<'a>(bytes: &'a [u8], at: &mut usize, length: usize) -> Option<&'a [u8]> {
    let end = at.checked_add(length)?;
    let taken = bytes.get(*at..end)?;
    *at = end;
    Some(taken)
}

fn take_u32(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let taken = take(bytes, at, 4)?;
    Some(u32::from_be_bytes(taken.try_into().ok()?))
}

/// One change as read from the log, borrowing its bytes: tree, key, value
/// (`None`: a remove) and, for a separated value, its value log reference.
type ReadChange<'a> = (TreeId, &'a [u8], Option<&'a [u8]>, Option<TextRef>);

/// The changes of one record's payload; `None` when it does not parse.
fn decode_changes(payload: &[u8]) -> Option<Vec<ReadChange<'_>>> {
    let mut changes = Vec::new();
    let mut at = 0;
    while at < payload.len() {
        let head = take(payload, &mut at, 2)?;
        let tree = TreeId::from_byte(head[0])?;
        let key_length = usize::try_from(take_u32(payload, &mut at)?).ok()?;
        let key = take(payload, &mut at, key_length)?;
        let (value, reference) = match head[1] {
            INSERT | SEPARATED => {
                let value_length = usize::try_from(take_u32(payload, &mut at)?).ok()?;
                let value = take(payload, &mut at, value_length)?;
                let reference = if head[1] == SEPARATED {
                    Some(TextRef::from_bytes(take(
                        payload,
                        &mut at,
                        TEXT_REF_BYTES,
                    )?)?)
                } else {
                    None
                };
                (Some(value), reference)
            }
            REMOVE => (None, None),
            _ => return None,
        };
        changes.push((tree, key, value, reference));
    }
    Some(changes)
}

/// The records of one segment's bytes, in order, and whether they ended in
/// a torn or corrupt record. A zero length ends them (no record is empty:
/// it is the preallocated part), torn unless only zeros follow.
fn decode_segment(bytes: &[u8]) -> (Vec<Vec<ReadChange<'_>>>, bool) {
    let mut records = Vec::new();
    let mut at = 0;
    while let Some(rest) = bytes.get(at..).filter(|rest| !rest.is_empty()) {
        // A zero length, or a tail of zeros too short to hold one (the
        // preallocated zeros can end 1 to 3 bytes past the last record),
        // ends the segment: cleanly when only zeros follow.
        if rest.iter().take(4).all(|&byte| byte == 0) {
            return (records, rest.iter().any(|&byte| byte != 0));
        }
        let parsed = (|| {
            let mut cursor = at;
            let length = usize::try_from(take_u32(bytes, &mut cursor)?).ok()?;
            let checksum = take_u32(bytes, &mut cursor)?;
            let payload = take(bytes, &mut cursor, length)?;
            if crc32fast::hash(payload) != checksum {
                return None;
            }
            Some((decode_changes(payload)?, cursor))
        })();
        match parsed {
            Some((changes, next)) => {
                records.push(changes);
                at = next;
            }
            None => return (records, true),
        }
    }
    (records, false)
}

fn apply(trees: &Trees, tree: TreeId, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError> {
    let tree = trees.tree(tree);
    match value {
        Some(value) => {
            tree.insert(key, value)?;
        }
        None => {
            tree.remove(key)?;
        }
    }
    Ok(())
}

/// Told how the write of a record goes on ([`WriteAheadLog::write_watched`]),
/// on the writing thread: it must not block.
pub(super) trait WriteWatcher {
    /// The record is in the log file and none of its changes is in sled
    /// yet: a sync started from now on makes it durable.
    fn appended(&mut self);

    /// The record's first `count` changes are in sled (told after each
    /// change, in order, until one is deferred).
    fn applied(&mut self, count: usize);
}

/// Nobody watching a write.
pub(super) struct Unwatched;

impl WriteWatcher for Unwatched {
    fn appended(&mut self) {}

    fn applied(&mut self, _count: usize) {}
}

impl WriteAheadLog {
    /// Opens the log in `directory`: applies what it holds to `trees`
    /// (see recovery in the module documentation), flushes `db`, and starts
    /// a new segment.
    pub(super) fn open(
        directory: &Path,
        checkpoint_after: u64,
        values: Arc<TextLog>,
        separate_from: usize,
        db: &sled::Db,
        trees: &Trees,
    ) -> Result<(WriteAheadLog, Recovery), StoreError> {
        std::fs::create_dir_all(directory).map_err(io_error)?;
        if let Some(parent) = directory.parent() {
            sync_directory(parent).map_err(io_error)?;
        }
        let found = segments(directory).map_err(io_error)?;
        let mut recovery = Recovery::default();
        for (_, path) in &found {
            let bytes = std::fs::read(path).map_err(io_error)?;
            let (records, torn) = decode_segment(&bytes);
            for changes in records {
                for (tree, key, value, reference) in changes {
                    match reference {
                        Some(reference) => {
                            values
                                .restore(reference, value.unwrap_or_default())
                                .map_err(values_error)?;
                            apply(trees, tree, key, Some(&separated_value(reference)))?;
                        }
                        None => apply(trees, tree, key, value)?,
                    }
                }
                recovery.records += 1;
            }
            if torn {
                // Nothing after a torn record was acknowledged as durable.
                recovery.torn = true;
                break;
            }
        }
        db.flush()?;
        values.sync().map_err(values_error)?;
        let next = found.last().map_or(0, |(number, _)| number + 1);
        let file = create_segment(directory, next).map_err(io_error)?;
        for (_, path) in &found {
            std::fs::remove_file(path).map_err(io_error)?;
        }
        sync_directory(directory).map_err(io_error)?;
        let log = WriteAheadLog {
            directory: directory.to_path_buf(),
            checkpoint_after,
            values,
            separate_from: separate_from.max(1),
            values_sync_wanted: Arc::new(Notify::new()),
            values_sync_after: VALUES_SYNC_BYTES,
            state: Mutex::new(LogState::new(next, file)),
            zeroed: Condvar::new(),
            preallocation_wanted: Arc::new(Notify::new()),
            preallocate_ahead: PREALLOCATE_AHEAD,
            preallocate_step: PREALLOCATE_STEP,
            unapplied: Unapplied::default(),
            checkpointing: Mutex::new(()),
            visible: RwLock::new(()),
            in_order: Mutex::new(()),
            deferred: Mutex::new(DeferredState::default()),
            deferred_done: Condvar::new(),
        };
        Ok((log, recovery))
    }

    fn lock_state(&self) -> Result<MutexGuard<'_, LogState>, StoreError> {
        self.state.lock().map_err(poisoned)
    }

    /// Appends `changes` as one record, then applies them to `trees`. They
    /// are durable after the next [`WriteAheadLog::sync`]. Writes to a key
    /// must be made under one lock (see the module documentation). When sled
    /// fails part-way through applying them (an I/O error), the record is
    /// whole in the log and the next open applies it in full.
    pub(super) fn write(&self, trees: &Trees, changes: &[Change]) -> Result<(), StoreError> {
        // Not deferring: every change is in sled when it returns.
        self.write_record(trees, changes, false, true, &mut Unwatched)
            .map(drop)
    }

    /// [`WriteAheadLog::write`], telling `watcher` once the record is in
    /// the log file, before its changes are applied (a sync started from
    /// then on makes the record durable, so a caller can have its flush
    /// under way while sled takes the changes), and then as its changes go
    /// into sled, so a caller can answer for the first ones before the last
    /// are in.
    pub(super) fn write_watched(
        &self,
        trees: &Trees,
        changes: &[Change],
        watcher: &mut dyn WriteWatcher,
    ) -> Result<(), StoreError> {
        self.write_record(trees, changes, false, true, watcher)
            .map(drop)
    }

    /// [`WriteAheadLog::write`], but the changes to trees that
    /// [`TreeId::applies_after_the_lock`] are left to the caller: it applies
    /// them with the returned [`DeferredChanges`] once it let go of its lock
    /// (see the module documentation). `None` when there are none.
    pub(super) fn write_deferring(
        &self,
        trees: &Trees,
        changes: &[Change],
    ) -> Result<Option<DeferredChanges<'_>>, StoreError> {
        self.write_record(trees, changes, true, true, &mut Unwatched)
    }

    /// [`WriteAheadLog::write`] of changes no reader needs to see whole:
    /// keys nothing points to until a later record does (a new search
    /// segment, whose entries count once the documents name their stamps),
    /// or changes ordered so that every state part-way through reads the
    /// same (a search compaction step: merged keys in, then the merged ones
    /// out). They are applied without excluding [`WriteAheadLog::whole_records`]
    /// readers, so a segment of thousands of keys does not hold up every
    /// other verb's apply meanwhile; and all at once, none deferred (only
    /// search segments are written so, and no tree that
    /// [`TreeId::applies_after_the_lock`]).
    pub(super) fn write_unseen(&self, trees: &Trees, changes: &[Change]) -> Result<(), StoreError> {
        self.write_record(trees, changes, false, false, &mut Unwatched)
            .map(drop)
    }

    /// Appends the record, tells `watcher`, and applies its changes
    /// (excluding readers of whole records when `seen`), but, when `defer`,
    /// those that may wait; those are returned, holding their turn. Without
    /// `defer` it returns `None`, every change applied.
    fn write_record(
        &self,
        trees: &Trees,
        changes: &[Change],
        defer: bool,
        seen: bool,
        watcher: &mut dyn WriteWatcher,
    ) -> Result<Option<DeferredChanges<'_>>, StoreError> {
        if changes.is_empty() {
            return Ok(None);
        }
        // Before the record is appended, so a checkpoint that retires the
        // record syncs the value log after its values are in it.
        let separated = self.separate(changes)?;
        let mut record = Vec::new();
        encode_record(&mut record, changes, &separated);
        let mut applying = {
            // In the file before any change is in sled: sled writes its
            // pages out on its own, and a process that dies mid-apply must
            // find the whole record to apply again.
            let mut state = self.lock_state()?;
            let length = record.len() as u64;
            // Not into a range being zeroed outside the lock.
            while state
                .zeroing
                .as_ref()
                .is_some_and(|zeroing| state.segment_bytes + length > zeroing.start)
            {
                state = self.zeroed.wait(state).map_err(poisoned)?;
            }
            state
                .file
                .write_all_at(&record, state.segment_bytes)
                .map_err(io_error)?;
            state.segment_bytes += length;
            if state.zeroing_due(self.preallocate_ahead / 2).is_some() {
                self.preallocation_wanted.notify_one();
            }
            self.unapplied.begin(state.segment)?
        };
        watcher.appended();
        let _applying_now = if seen {
            Some(self.visible.write().map_err(poisoned)?)
        } else {
            None
        };
        let mut positions = Vec::new();
        for (position, ((tree, key, value), reference)) in
            changes.iter().zip(&separated).enumerate()
        {
            if seen && tree.applies_after_the_lock() && reference.is_none() {
                positions.push(position);
                continue;
            }
            match reference {
                Some(reference) => apply(trees, *tree, key, Some(&separated_value(*reference)))?,
                None => apply(trees, *tree, key, value.as_deref())?,
            }
            // Every change up to this one is in sled, unless one was deferred.
            if positions.is_empty() {
                watcher.applied(position + 1);
            }
        }
        if positions.is_empty() {
            applying.applied = true;
            return Ok(None);
        }
        // After every deferred part of an earlier record; counted while
        // `visible` is held, so a reader holding it sees a stable count.
        let in_order = self.in_order.lock().map_err(poisoned)?;
        self.deferred.lock().map_err(poisoned)?.outstanding += 1;
        let deferred = DeferredChanges {
            log: self,
            positions,
            applying,
            _in_order: in_order,
            applied: false,
        };
        if defer {
            return Ok(Some(deferred));
        }
        deferred.apply(trees, changes)?;
        Ok(None)
    }

    /// Waits until every deferred part written so far is in sled. Call it
    /// holding [`WriteAheadLog::whole_records`] (no part is added meanwhile)
    /// before reading a tree that [`TreeId::applies_after_the_lock`]; fails
    /// when one could not be applied.
    pub(super) fn wait_for_deferred(&self) -> Result<(), StoreError> {
        let mut state = self.deferred.lock().map_err(poisoned)?;
        while state.outstanding > 0 {
            state = self.deferred_done.wait(state).map_err(poisoned)?;
        }
        if state.failed {
            return Err(StoreError::Io(
                "write-ahead log: a deferred change could not be applied; reopen the store".into(),
            ));
        }
        Ok(())
    }

    /// Appends the values of `changes` that are separated to the value log
    /// (one write); for each change, the reference its value went to.
    fn separate(&self, changes: &[Change]) -> Result<Vec<Option<TextRef>>, StoreError> {
        let separates = |(tree, _, value): &Change| {
            tree.separates_values()
                && value
                    .as_ref()
                    .is_some_and(|value| value.len() >= self.separate_from)
        };
        if !changes.iter().any(separates) {
            return Ok(vec![None; changes.len()]);
        }
        let values: Vec<&[u8]> = changes
            .iter()
            .filter(|change| separates(change))
            .filter_map(|(_, _, value)| value.as_deref())
            .collect();
        let mut references = self
            .values
            .append(&values)
            .map_err(values_error)?
            .into_iter();
        if self.values.unsynced_bytes() >= self.values_sync_after {
            self.values_sync_wanted.notify_one();
        }
        Ok(changes
            .iter()
            .map(|change| {
                if separates(change) {
                    references.next()
                } else {
                    None
                }
            })
            .collect())
    }

    /// A value as read from a tree: a separated value's reference is read
    /// from the value log; any other value is returned as it is.
    pub(super) fn resolve(&self, value: sled::IVec) -> Result<sled::IVec, StoreError> {
        match separated_reference(&value) {
            Some(reference) => self
                .values
                .read(reference)
                .map(sled::IVec::from)
                .map_err(|error| StoreError::Corrupt(format!("value log: {error}"))),
            None => Ok(value),
        }
    }

    /// The length of a value as read from a tree, without reading a
    /// separated value from the value log.
    pub(super) fn stored_length(value: &[u8]) -> usize {
        match separated_reference(value) {
            Some(reference) => usize::try_from(reference.length()).unwrap_or(usize::MAX),
            None => value.len(),
        }
    }

    /// Bytes of the value log's segments.
    pub(super) fn value_log_bytes(&self) -> u64 {
        self.values.total_bytes()
    }

    /// Held by a read that spans several keys: while it is, no record is
    /// half applied. Do not write (or take the writer lock) while holding it.
    pub(super) fn whole_records(&self) -> Result<RwLockReadGuard<'_, ()>, StoreError> {
        self.visible.read().map_err(poisoned)
    }

    /// Makes every record appended so far durable.
    pub(super) fn sync(&self) -> Result<(), StoreError> {
        let file = Arc::clone(&self.lock_state()?.file);
        file.sync_data().map_err(io_error)
    }

    /// Zeroes `ahead` bytes past the last record, `step` at a time, instead
    /// of [`PREALLOCATE_AHEAD`] and [`PREALLOCATE_STEP`].
    #[cfg(test)]
    fn set_preallocation(&mut self, ahead: u64, step: u64) {
        self.preallocate_ahead = ahead;
        self.preallocate_step = step;
    }

    /// Asks for a sync of the value log after `bytes` instead of [`VALUES_SYNC_BYTES`].
    #[cfg(test)]
    fn set_values_sync_after(&mut self, bytes: u64) {
        self.values_sync_after = bytes;
    }

    /// Where the next record goes in the current segment.
    #[cfg(test)]
    fn write_position(&self) -> u64 {
        self.lock_state().map_or(0, |state| state.segment_bytes)
    }

    /// The segment records go to now.
    #[cfg(test)]
    fn current_segment(&self) -> u64 {
        self.lock_state().map_or(0, |state| state.segment)
    }

    /// Notified when the value log has [`VALUES_SYNC_BYTES`] to sync
    /// ([`WriteAheadLog::sync_values`]).
    pub(super) fn values_sync_wanted(&self) -> Arc<Notify> {
        Arc::clone(&self.values_sync_wanted)
    }

    /// Syncs the value log. Not needed for durability (the log's records
    /// hold the values until a checkpoint syncs it), but run in the
    /// background as values pile up, it leaves the checkpoint's sync little
    /// to write: tens of megabytes written at once held up the syncs of
    /// the log, and so every verb, meanwhile.
    pub(super) fn sync_values(&self) -> Result<(), StoreError> {
        self.values.sync().map_err(values_error)
    }

    /// Notified when [`WriteAheadLog::preallocate`] has work to do.
    pub(super) fn preallocation_wanted(&self) -> Arc<Notify> {
        Arc::clone(&self.preallocation_wanted)
    }

    /// Zeroes, and syncs, the current segment past its last record until
    /// [`PREALLOCATE_AHEAD`] bytes are (see preallocation in the module
    /// documentation), one step at a time outside the log's lock. Returns
    /// at once when enough are, or when zeroing this segment failed before.
    pub(super) fn preallocate(&self) -> Result<(), StoreError> {
        let zeros = vec![0u8; usize::try_from(self.preallocate_step).unwrap_or(1 << 20)];
        loop {
            let (file, segment, range) = {
                let mut state = self.lock_state()?;
                let Some(from) = state.zeroing_due(self.preallocate_ahead) else {
                    return Ok(());
                };
                let range = from..from + zeros.len() as u64;
                state.zeroing = Some(range.clone());
                (Arc::clone(&state.file), state.segment, range)
            };
            let zeroed = file
                .write_all_at(&zeros, range.start)
                .and_then(|()| file.sync_data());
            let mut state = self.lock_state()?;
            if state.segment == segment {
                state.zeroing = None;
                match &zeroed {
                    Ok(()) => state.zeroed_to = state.zeroed_to.max(range.end),
                    Err(_) => state.zeroing_failed = true,
                }
            }
            drop(state);
            self.zeroed.notify_all();
            zeroed.map_err(io_error)?;
        }
    }

    /// True when the current segment has grown past the checkpoint size.
    pub(super) fn checkpoint_due(&self) -> bool {
        self.lock_state()
            .map(|state| state.segment_bytes >= self.checkpoint_after)
            .unwrap_or(false)
    }

    /// Moves to a new segment, waits until the old one's records are in
    /// sled, flushes sled, syncs the value log, deletes the old segments.
    /// Writes go on into the new segment meanwhile.
    pub(super) fn checkpoint(&self, db: &sled::Db) -> Result<(), StoreError> {
        let _one_at_a_time = self.checkpointing.lock().map_err(poisoned)?;
        // Created before the switch: its directory sync holds up no write.
        let next = self.lock_state()?.segment + 1;
        let file = create_segment(&self.directory, next).map_err(io_error)?;
        let retired = {
            let mut state = self.lock_state()?;
            // What the old segment holds stays durable until sled's flush,
            // and a later sync (of the new segment) covers the records
            // appended to it before the switch.
            state.file.sync_data().map_err(io_error)?;
            let retired = state.segment;
            // A range of the old segment being zeroed holds up no write to the new one.
            *state = LogState::new(next, file);
            self.zeroed.notify_all();
            retired
        };
        self.unapplied.wait_through(retired)?;
        db.flush()?;
        // The retired records are the only copy of values not yet synced.
        self.values.sync().map_err(values_error)?;
        for (number, path) in segments(&self.directory).map_err(io_error)? {
            if number <= retired {
                std::fs::remove_file(path).map_err(io_error)?;
            }
        }
        sync_directory(&self.directory).map_err(io_error)
    }

    /// Bytes of the log's segments.
    pub(super) fn total_bytes(&self) -> u64 {
        segments(&self.directory)
            .unwrap_or_default()
            .iter()
            .filter_map(|(_, path)| std::fs::metadata(path).ok())
            .map(|metadata| metadata.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Opens the value log of a test under `directory`.
    fn value_log(directory: &Path) -> Arc<TextLog> {
        Arc::new(TextLog::open(&directory.join(VALUES_DIRECTORY), 1 << 20).expect("value log"))
    }

    #[test]
    fn a_record_round_trips_and_a_cut_or_flipped_one_reads_as_torn() {
        let changes: Vec<Change> = vec![
            (TreeId::Articles, b"a".to_vec(), Some(b"status".to_vec())),
            (TreeId::Queue, b"q".to_vec(), None),
            (TreeId::SearchSegments, Vec::new(), Some(Vec::new())),
            (TreeId::Dialogues, b"d".to_vec(), Some(b"record".to_vec())),
        ];
        let reference = TextRef::from_bytes(&[7; TEXT_REF_BYTES]).expect("a reference");
        let separated = [None, None, None, Some(reference)];
        let mut bytes = Vec::new();
        encode_record(&mut bytes, &changes, &separated);
        encode_record(&mut bytes, &changes[..1], &[]);
        let (records, torn) = decode_segment(&bytes);
        assert!(!torn);
        assert_eq!(records.len(), 2);
        let first: Vec<Change> = records[0]
            .iter()
            .map(|(tree, key, value, _)| (*tree, key.to_vec(), value.map(<[u8]>::to_vec)))
            .collect();
        assert_eq!(first, changes);
        let references: Vec<Option<TextRef>> = records[0]
            .iter()
            .map(|(.., reference)| *reference)
            .collect();
        assert_eq!(references, separated);
        let first_length = records_len(&changes, &separated);
        for cut in 1..bytes.len() {
            let (records, torn) = decode_segment(&bytes[..cut]);
            assert_eq!(
                records.len(),
                usize::from(cut >= first_length),
                "cut at {cut}"
            );
            // A cut within the next length's leading zero bytes reads as the
            // end of the records, as preallocated zeros do (a record cut
            // there was never acknowledged, either way).
            let whole = if cut >= first_length { first_length } else { 0 };
            let only_zeros_after_whole = bytes[whole..cut].iter().all(|&byte| byte == 0);
            assert_eq!(torn, !only_zeros_after_whole, "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let (records, torn) = decode_segment(&flipped);
        assert_eq!(records.len(), 1);
        assert!(torn);
        // Preallocated zeros end the records cleanly; anything else after
        // a zero length is a record cut short.
        let mut zeroed = bytes.clone();
        zeroed.resize(bytes.len() + 4096, 0);
        let (records, torn) = decode_segment(&zeroed);
        assert_eq!((records.len(), torn), (2, false));
        zeroed[bytes.len() + 100] = 1;
        let (records, torn) = decode_segment(&zeroed);
        assert_eq!((records.len(), torn), (2, true));
        // The preallocated zeros may end 1 to 3 bytes past the last record:
        // too short for a length, still the clean end (it was read as torn,
        // which stopped recovery before the later segments).
        for tail in 1..4 {
            let mut short = bytes.clone();
            short.resize(bytes.len() + tail, 0);
            assert!(!decode_segment(&short).1, "{tail} zero bytes");
            short[bytes.len() + tail - 1] = 1;
            assert!(decode_segment(&short).1, "{tail} bytes, one not zero");
        }
    }

    #[test]
    fn a_record_that_would_reach_a_range_being_zeroed_waits_for_it() {
        let (_directory, _db, trees, log) = temporary_log();
        let from = log.write_position() + 64;
        log.lock_state().expect("state").zeroing = Some(from..from + 4096);
        let (done, written) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let value = vec![1u8; 200];
                let result = log.write(&trees, &[(TreeId::Articles, b"a".to_vec(), Some(value))]);
                let _ = done.send(result.is_ok());
            });
            // Waits while the range is being zeroed (a write that did not
            // wait would be done long before the timeout)...
            assert!(written
                .recv_timeout(std::time::Duration::from_millis(300))
                .is_err());
            assert_eq!(log.write_position(), from - 64);
            // ... and goes in once it is zeroed.
            log.lock_state().expect("state").zeroing = None;
            log.zeroed.notify_all();
            assert_eq!(
                written.recv_timeout(std::time::Duration::from_secs(10)),
                Ok(true)
            );
        });
        assert!(log.write_position() > from);
    }

    #[test]
    fn the_segment_is_zeroed_ahead_and_records_written_into_the_zeros_are_recovered() {
        let directory = tempfile::tempdir().expect("temp dir");
        let (db, trees, mut log) = log_on_disk(directory.path());
        log.set_preallocation(16 * 1024, 4096);
        let segment_length = |directory: &Path| {
            let (_, path) = segments(&directory.join(WAL_DIRECTORY))
                .expect("list")
                .pop()
                .expect("a segment");
            std::fs::metadata(path).expect("stat").len()
        };
        log.preallocate().expect("preallocate");
        assert_eq!(segment_length(directory.path()), 16 * 1024);
        let wanted = log.preallocation_wanted();
        let mut records = 0u8;
        // Past half of what was zeroed, a write asks for more.
        while log.write_position() < 9 * 1024 {
            let value = vec![records; 700];
            log.write(&trees, &[(TreeId::Articles, vec![records], Some(value))])
                .expect("write");
            records += 1;
        }
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
            .block_on(async {
                tokio::time::timeout(std::time::Duration::from_secs(5), wanted.notified()).await
            })
            .expect("a write asked for more zeros");
        log.preallocate().expect("preallocate");
        let zeroed_to = log.write_position() + 16 * 1024;
        assert!(segment_length(directory.path()) >= zeroed_to);
        log.sync().expect("sync");
        drop((log, trees, db));
        let db = sled::Config::new()
            .path(directory.path().join("sled-after-crash"))
            .open()
            .expect("sled");
        let trees = Trees::open(&db).expect("trees");
        let (_, recovery) = open_log_recovering(directory.path(), &db, &trees);
        assert_eq!(
            recovery,
            Recovery {
                records: u64::from(records),
                torn: false
            }
        );
        assert_eq!(trees.tree(TreeId::Articles).len(), usize::from(records));
    }

    #[test]
    fn a_read_holding_whole_records_never_sees_part_of_a_record() {
        let directory = tempfile::tempdir().expect("temp dir");
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let trees = Arc::new(Trees::open(&db).expect("trees"));
        let log = Arc::new(open_log(directory.path(), &db, &trees));
        let writer = {
            let (log, trees) = (Arc::clone(&log), Arc::clone(&trees));
            std::thread::spawn(move || {
                for round in 0u32..3000 {
                    let value = round.to_be_bytes().to_vec();
                    // Two keys and, between them, enough to make a reader
                    // land in the middle of a record.
                    let mut changes: Vec<Change> =
                        vec![(TreeId::Articles, b"a".to_vec(), Some(value.clone()))];
                    changes.extend(
                        (0u8..16).map(|index| (TreeId::Stats, vec![index], Some(value.clone()))),
                    );
                    changes.push((TreeId::Queue, b"b".to_vec(), Some(value)));
                    log.write(&trees, &changes).expect("write");
                }
            })
        };
        let mut reads = 0u32;
        while !writer.is_finished() {
            let _whole = log.whole_records().expect("guard");
            let first = trees.articles.get(b"a").expect("read a");
            let second = trees.queue.get(b"b").expect("read b");
            assert_eq!(first, second, "after {reads} reads");
            reads += 1;
        }
        writer.join().expect("writer");
    }

    /// What a [`WriteWatcher`] was told, with what sled held each time.
    struct Recording {
        articles: sled::Tree,
        /// `None` for `appended`, else the count; and the articles in sled then.
        told: Vec<(Option<usize>, usize)>,
    }

    impl WriteWatcher for Recording {
        fn appended(&mut self) {
            self.told.push((None, self.articles.len()));
        }

        fn applied(&mut self, count: usize) {
            self.told.push((Some(count), self.articles.len()));
        }
    }

    #[test]
    fn a_watched_write_is_told_of_the_append_then_of_each_change_in_sled() {
        let (_directory, _db, trees, log) = temporary_log();
        let changes: Vec<Change> = (0..3u8)
            .map(|key| (TreeId::Articles, vec![key], Some(b"status".to_vec())))
            .collect();
        let mut recording = Recording {
            articles: trees.articles.clone(),
            told: Vec::new(),
        };
        log.write_watched(&trees, &changes, &mut recording)
            .expect("write");
        assert_eq!(
            recording.told,
            vec![(None, 0), (Some(1), 1), (Some(2), 2), (Some(3), 3)],
            "the append before any change is in sled, then each change once in"
        );
    }

    /// A log over a temporary sled under `directory`.
    fn open_log(directory: &Path, db: &sled::Db, trees: &Trees) -> WriteAheadLog {
        open_log_recovering(directory, db, trees).0
    }

    /// [`open_log`], with what its recovery found.
    fn open_log_recovering(
        directory: &Path,
        db: &sled::Db,
        trees: &Trees,
    ) -> (WriteAheadLog, Recovery) {
        WriteAheadLog::open(
            &directory.join(WAL_DIRECTORY),
            CHECKPOINT_BYTES,
            value_log(directory),
            SEPARATE_FROM_BYTES,
            db,
            trees,
        )
        .expect("open")
    }

    /// A log over a temporary sled, with what it needs kept alive.
    fn temporary_log() -> (tempfile::TempDir, sled::Db, Trees, WriteAheadLog) {
        let directory = tempfile::tempdir().expect("temp dir");
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let trees = Trees::open(&db).expect("trees");
        let log = open_log(directory.path(), &db, &trees);
        (directory, db, trees, log)
    }

    /// A log over a sled kept under `directory`, opened (again).
    fn log_on_disk(directory: &Path) -> (sled::Db, Trees, WriteAheadLog) {
        let db = sled::Config::new()
            .path(directory.join("sled"))
            .open()
            .expect("sled");
        let trees = Trees::open(&db).expect("trees");
        let log = open_log(directory, &db, &trees);
        (db, trees, log)
    }

    /// A record and its index entry.
    fn record_and_entry() -> Vec<Change> {
        vec![
            (TreeId::Dialogues, b"r".to_vec(), Some(b"record".to_vec())),
            (TreeId::Index, b"entry".to_vec(), Some(Vec::new())),
        ]
    }

    /// Writes `changes`, whose index entry is deferred.
    fn write_deferring_the_entry<'log>(
        log: &'log WriteAheadLog,
        trees: &Trees,
        changes: &[Change],
    ) -> DeferredChanges<'log> {
        log.write_deferring(trees, changes)
            .expect("write")
            .expect("the index entry is deferred")
    }

    #[test]
    fn a_deferred_part_goes_in_after_the_rest_and_readers_wait_for_it() {
        let (_directory, _db, trees, log) = temporary_log();
        let changes = record_and_entry();
        let deferred = write_deferring_the_entry(&log, &trees, &changes);
        assert!(trees.dialogues.contains_key(b"r").expect("read"));
        assert!(!trees.dialogue_index.contains_key(b"entry").expect("read"));
        let (log, trees) = (&log, &trees);
        std::thread::scope(|scope| {
            let (holding, held) = std::sync::mpsc::channel();
            let reader = scope.spawn(move || {
                let _whole = log.whole_records().expect("guard");
                holding.send(()).expect("signal");
                log.wait_for_deferred().expect("applied");
                trees.dialogue_index.contains_key(b"entry").expect("read")
            });
            held.recv().expect("the reader holds whole records");
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(
                !reader.is_finished(),
                "a reader waits for the deferred part"
            );
            deferred.apply(trees, &changes).expect("apply");
            assert!(reader.join().expect("reader"), "the reader sees the entry");
        });
        log.wait_for_deferred().expect("nothing outstanding");
        // Changes with nothing to defer are applied in full.
        let plain: Vec<Change> = vec![(TreeId::Articles, b"a".to_vec(), Some(b"1".to_vec()))];
        assert!(log.write_deferring(trees, &plain).expect("write").is_none());
        assert!(trees.articles.contains_key(b"a").expect("read"));
    }

    #[test]
    fn a_later_write_to_a_deferred_tree_goes_in_after_the_deferred_part() {
        let (_directory, _db, trees, log) = temporary_log();
        let changes = record_and_entry();
        let deferred = write_deferring_the_entry(&log, &trees, &changes);
        let (log, trees) = (&log, &trees);
        std::thread::scope(|scope| {
            // The next record removes the entry; it waits for its turn
            // (no reader holds anything), so the entry ends removed.
            let remover = scope.spawn(|| {
                let removal: Vec<Change> = vec![(TreeId::Index, b"entry".to_vec(), None)];
                log.write(trees, &removal).expect("write");
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!remover.is_finished(), "a later write waits for its turn");
            deferred.apply(trees, &changes).expect("apply");
            remover.join().expect("remover");
        });
        assert!(!trees.dialogue_index.contains_key(b"entry").expect("read"));
        log.wait_for_deferred().expect("nothing outstanding");
    }

    #[test]
    fn an_unseen_write_does_not_wait_for_readers_of_whole_records() {
        let (_directory, _db, trees, log) = temporary_log();
        let (log, trees) = (&log, &trees);
        let whole = log.whole_records().expect("guard");
        let written_meanwhile = std::thread::scope(|scope| {
            let (done, finished) = std::sync::mpsc::channel();
            scope.spawn(move || {
                let segment: Vec<Change> = vec![(
                    TreeId::SearchSegments,
                    b"token".to_vec(),
                    Some(b"entries".to_vec()),
                )];
                log.write_unseen(trees, &segment).expect("write");
                done.send(()).expect("signal");
            });
            let written = finished
                .recv_timeout(std::time::Duration::from_secs(60))
                .is_ok();
            drop(whole); // lets a blocked write finish, so the test fails rather than hangs
            written
        });
        assert!(
            written_meanwhile,
            "written while a reader holds whole records"
        );
        assert!(trees.search_segments.contains_key(b"token").expect("read"));
    }

    #[test]
    fn a_deferred_part_never_applied_fails_readers_and_the_next_open_applies_it() {
        let directory = tempfile::tempdir().expect("temp dir");
        let changes = record_and_entry();
        {
            let (_db, trees, log) = log_on_disk(directory.path());
            let deferred = write_deferring_the_entry(&log, &trees, &changes);
            drop(deferred); // as when the completing thread failed or panicked
            let _whole = log.whole_records().expect("guard");
            let error = log
                .wait_for_deferred()
                .expect_err("an unapplied part fails readers");
            assert!(error.to_string().contains("reopen"), "{error}");
            assert!(!trees.dialogue_index.contains_key(b"entry").expect("read"));
        }
        let (_db, trees, log) = log_on_disk(directory.path());
        assert!(trees.dialogue_index.contains_key(b"entry").expect("read"));
        assert!(trees.dialogues.contains_key(b"r").expect("read"));
        log.wait_for_deferred()
            .expect("a new log has nothing outstanding");
    }

    #[test]
    fn a_checkpoint_waits_for_the_old_segments_records_while_writes_go_on() {
        let directory = tempfile::tempdir().expect("temp dir");
        let wal_directory = directory.path().join(WAL_DIRECTORY);
        let changes = record_and_entry();
        let later: Vec<Change> = vec![(TreeId::Articles, b"a".to_vec(), Some(b"1".to_vec()))];
        {
            let (db, trees, log) = log_on_disk(directory.path());
            let deferred = write_deferring_the_entry(&log, &trees, &changes);
            let retired = log.current_segment();
            let (log, trees, db) = (&log, &trees, &db);
            std::thread::scope(|scope| {
                let checkpoint = scope.spawn(move || log.checkpoint(db));
                // It moves on to a new segment before it waits.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                while log.current_segment() == retired && std::time::Instant::now() < deadline {
                    std::thread::yield_now();
                }
                if log.current_segment() == retired {
                    deferred.apply(trees, &changes).expect("apply");
                    panic!("the checkpoint did not move on while a record was being applied");
                }
                let (done, finished) = std::sync::mpsc::channel();
                let later = &later;
                scope.spawn(move || {
                    log.write(trees, later).expect("write");
                    done.send(()).expect("signal");
                });
                let written = finished
                    .recv_timeout(std::time::Duration::from_secs(60))
                    .is_ok();
                let checkpoint_waited = !checkpoint.is_finished();
                let retired_kept = segment_path(&wal_directory, retired).exists();
                deferred.apply(trees, &changes).expect("apply");
                assert!(written, "a write to the new segment went on");
                assert!(checkpoint_waited, "the checkpoint waits for the old record");
                assert!(retired_kept, "the old segment is kept until then");
                checkpoint.join().expect("thread").expect("checkpoint");
                assert!(!segment_path(&wal_directory, retired).exists());
            });
            assert!(trees.dialogue_index.contains_key(b"entry").expect("read"));
        }
        // The write to the new segment is in its log; the old record in sled.
        let (_db, trees, _log) = log_on_disk(directory.path());
        assert!(trees.dialogue_index.contains_key(b"entry").expect("read"));
        assert!(trees.articles.contains_key(b"a").expect("read"));
    }

    #[test]
    fn a_record_never_applied_fails_checkpoints_and_its_segment_is_kept() {
        let directory = tempfile::tempdir().expect("temp dir");
        let changes = record_and_entry();
        {
            let (db, trees, log) = log_on_disk(directory.path());
            let deferred = write_deferring_the_entry(&log, &trees, &changes);
            let retired = log.current_segment();
            drop(deferred); // as when the completing thread failed or panicked
            let error = log.checkpoint(&db).expect_err("the checkpoint fails");
            assert!(error.to_string().contains("reopened"), "{error}");
            assert!(segment_path(&directory.path().join(WAL_DIRECTORY), retired).exists());
            assert!(log.checkpoint(&db).is_err(), "and so does every later one");
        }
        let (_db, trees, _log) = log_on_disk(directory.path());
        assert!(trees.dialogue_index.contains_key(b"entry").expect("read"));
    }

    #[test]
    fn a_sync_of_the_value_log_is_asked_for_once_enough_of_it_is_unsynced() {
        let (_directory, _db, trees, mut log) = temporary_log();
        let value_bytes = SEPARATE_FROM_BYTES as u64;
        log.set_values_sync_after(3 * value_bytes);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let wanted = log.values_sync_wanted();
        let asked = |wait: std::time::Duration| {
            runtime
                .block_on(async { tokio::time::timeout(wait, wanted.notified()).await })
                .is_ok()
        };
        let record = |key: &[u8]| -> Vec<Change> {
            vec![(
                TreeId::Dialogues,
                key.to_vec(),
                Some(vec![b'x'; SEPARATE_FROM_BYTES]),
            )]
        };
        for key in [b"a", b"b"] {
            log.write(&trees, &record(key)).expect("write");
        }
        assert!(!asked(std::time::Duration::ZERO), "not yet");
        log.write(&trees, &record(b"c")).expect("write");
        assert!(asked(std::time::Duration::from_secs(60)), "asked");
        assert_eq!(log.values.unsynced_bytes(), 3 * value_bytes);
        log.sync_values().expect("sync");
        assert_eq!(log.values.unsynced_bytes(), 0);
        // Values smaller than the separation size stay in sled, not counted.
        let small: Vec<Change> = vec![(TreeId::Dialogues, b"d".to_vec(), Some(b"x".to_vec()))];
        log.write(&trees, &small).expect("write");
        assert_eq!(log.values.unsynced_bytes(), 0);
    }

    /// Bytes of the record holding `changes`.
    fn records_len(changes: &[Change], separated: &[Option<TextRef>]) -> usize {
        let mut bytes = Vec::new();
        encode_record(&mut bytes, changes, separated);
        bytes.len()
    }

    /// One step of the model test.
    #[derive(Debug, Clone)]
    enum Step {
        /// A record: (second tree?, key, value or remove).
        Write(Vec<(bool, u8, Option<u8>)>),
        Sync,
        Checkpoint,
        /// The segment is zeroed ahead of its last record.
        Preallocate,
        /// The process dies: sled keeps what the last checkpoint flushed plus
        /// the first `kept` changes made after it (it writes its pages out on
        /// its own, so a record can be cut); `tear` leaves the start of a
        /// record at the end of the log (a process killed mid-append).
        Crash {
            kept: usize,
            tear: bool,
        },
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        prop_oneof![
            5 => proptest::collection::vec(
                (any::<bool>(), 0u8..6, proptest::option::of(any::<u8>())),
                1..5
            )
            .prop_map(Step::Write),
            2 => Just(Step::Sync),
            1 => Just(Step::Checkpoint),
            1 => Just(Step::Preallocate),
            1 => (0usize..12, any::<bool>()).prop_map(|(kept, tear)| Step::Crash { kept, tear }),
        ]
    }

    type Model = std::collections::BTreeMap<(bool, u8), u8>;

    /// The second tree separates its values (every one, in this test).
    fn tree_of(second: bool) -> TreeId {
        if second {
            TreeId::Dialogues
        } else {
            TreeId::Articles
        }
    }

    fn changes_of(record: &[(bool, u8, Option<u8>)]) -> Vec<Change> {
        record
            .iter()
            .map(|(second, key, value)| {
                (tree_of(*second), vec![*key], value.map(|value| vec![value]))
            })
            .collect()
    }

    fn apply_to_model(model: &mut Model, record: &[(bool, u8, Option<u8>)]) {
        for (second, key, value) in record {
            match value {
                Some(value) => model.insert((*second, *key), *value),
                None => model.remove(&(*second, *key)),
            };
        }
    }

    fn read_trees(trees: &Trees, log: &WriteAheadLog) -> Model {
        let mut model = Model::new();
        for second in [false, true] {
            for entry in trees.tree(tree_of(second)).iter() {
                let (key, value) = entry.expect("read");
                let value = log.resolve(value).expect("resolve");
                model.insert((second, key[0]), value[0]);
            }
        }
        model
    }

    /// The changes of the log's records as sled was given them (separated
    /// values as their references).
    fn applied_changes(wal_directory: &Path) -> Vec<Change> {
        let mut changes = Vec::new();
        for (_, path) in segments(wal_directory).expect("list") {
            let bytes = std::fs::read(path).expect("read segment");
            for record in decode_segment(&bytes).0 {
                for (tree, key, value, reference) in record {
                    let value = match reference {
                        Some(reference) => Some(separated_value(reference).to_vec()),
                        None => value.map(<[u8]>::to_vec),
                    };
                    changes.push((tree, key.to_vec(), value));
                }
            }
        }
        changes
    }

    /// A fresh sled holding `model` (values inline, as a store written
    /// before separation holds them) plus the first `kept` of `changes`.
    fn sled_after_crash(model: &Model, changes: &[Change], kept: usize) -> (sled::Db, Trees) {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let trees = Trees::open(&db).expect("trees");
        for ((second, key), value) in model {
            apply(&trees, tree_of(*second), &[*key], Some(&[*value])).expect("seed");
        }
        for (tree, key, value) in changes.iter().take(kept) {
            apply(&trees, *tree, key, value.as_deref()).expect("kept change");
        }
        (db, trees)
    }

    /// The bytes of the value log's segments.
    fn value_log_lengths(directory: &Path) -> Vec<(PathBuf, u64)> {
        numbered_files(&directory.join(VALUES_DIRECTORY), ".log")
            .expect("list values")
            .into_iter()
            .map(|(_, path)| {
                let length = std::fs::metadata(&path).expect("stat").len();
                (path, length)
            })
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..proptest::prelude::ProptestConfig::default() })]

        /// Whatever sled kept of the changes since the last checkpoint, even
        /// part of a record, and though the value log lost every value
        /// appended since, recovery gives the state after every record
        /// written; the trees show every record at every step.
        #[test]
        fn recovery_gives_the_state_after_every_record_written_before_a_crash(
            steps in proptest::collection::vec(step(), 1..40)
        ) {
            let directory = tempfile::tempdir().expect("temp dir");
            let wal_directory = directory.path().join(WAL_DIRECTORY);
            let (mut db, mut trees) = sled_after_crash(&Model::new(), &[], 0);
            let (mut log, _) = WriteAheadLog::open(
                &wal_directory, CHECKPOINT_BYTES, value_log(directory.path()), 1, &db, &trees,
            )
            .expect("open");
            log.set_preallocation(256, 64);
            // What the value log holds on disk for sure (synced at checkpoints).
            let mut values_synced = value_log_lengths(directory.path());
            // What a checkpoint (or recovery) made durable in sled, and the
            // records written since.
            let mut checkpointed = Model::new();
            let mut since: Vec<Vec<(bool, u8, Option<u8>)>> = Vec::new();
            for step in steps {
                match step {
                    Step::Write(record) => {
                        log.write(&trees, &changes_of(&record)).expect("write");
                        since.push(record);
                    }
                    Step::Sync => log.sync().expect("sync"),
                    Step::Preallocate => log.preallocate().expect("preallocate"),
                    Step::Checkpoint => {
                        log.checkpoint(&db).expect("checkpoint");
                        values_synced = value_log_lengths(directory.path());
                        for record in since.drain(..) {
                            apply_to_model(&mut checkpointed, &record);
                        }
                    }
                    Step::Crash { kept, tear } => {
                        let end = log.write_position();
                        drop(log);
                        if tear {
                            // Over the zeros preallocated past the end, if any.
                            let (_, last) = segments(&wal_directory).expect("list").pop().expect("a segment");
                            let file = std::fs::OpenOptions::new().write(true).open(last).expect("open segment");
                            file.write_all_at(&[0, 0, 0, 40, 1, 2, 3, 4, 5], end).expect("tear");
                        }
                        let all_changes = applied_changes(&wal_directory);
                        (db, trees) = sled_after_crash(&checkpointed, &all_changes, kept);
                        // The page cache goes: values appended since the last sync are lost.
                        let synced: std::collections::HashMap<PathBuf, u64> = values_synced.iter().cloned().collect();
                        for (path, _) in value_log_lengths(directory.path()) {
                            let file = std::fs::OpenOptions::new().write(true).open(&path).expect("open values");
                            file.set_len(synced.get(&path).copied().unwrap_or(0)).expect("lose values");
                        }
                        let (reopened, recovery) = WriteAheadLog::open(
                            &wal_directory, CHECKPOINT_BYTES, value_log(directory.path()), 1, &db, &trees,
                        )
                        .expect("recover");
                        values_synced = value_log_lengths(directory.path());
                        log = reopened;
                        log.set_preallocation(256, 64);
                        proptest::prop_assert_eq!(recovery.torn, tear);
                        for record in since.drain(..) {
                            apply_to_model(&mut checkpointed, &record);
                        }
                        proptest::prop_assert_eq!(read_trees(&trees, &log), checkpointed.clone());
                    }
                }
                // The trees always show every record written.
                let mut expected = checkpointed.clone();
                for record in &since {
                    apply_to_model(&mut expected, record);
                }
                proptest::prop_assert_eq!(read_trees(&trees, &log), expected);
            }
        }
    }
}
