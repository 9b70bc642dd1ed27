//! The text log: article texts appended to segment files beside the sled
//! database (`<data>/texts/00000001.log`, …), with only a [`TextRef`]
//! (segment, offset, length, CRC-32) stored in sled. The same segment files
//! hold the value log (`<data>/values/`: large records, reports and feed
//! events), whose durability comes from the write-ahead log instead (see
//! [`super::wal`] and [`TextLog::restore`]).
//!
//! A text is written once and never changed, so it needs none of what sled
//! gives a value. In sled it costs far more: a leaf holds up to 16 values
//! and every insert into it copies and, every few inserts, rewrites the whole
//! leaf, so a 6 KB article text cost about 40 µs to insert (against 4 µs for
//! a short value) and was written to disk several times over.
//!
//! Durability: [`TextLog::sync`] runs in the group commit beside the
//! write-ahead log's sync (see [`super::commit`]), so a submission is
//! acknowledged only once both its text and its keys are on disk. The kernel
//! (or sled, for the trees) may persist a submission's keys of its own
//! accord before that; if the power goes
//! then, a reference can survive whose text did not. Every read checks the
//! length and the CRC, so such a text reads as [`TextReadError::Lost`], never
//! as other bytes. Its submission was never acknowledged: the store
//! dead-letters the article when it is leased and takes a resubmission of the
//! same article as new (see `Inner::text_intact`).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The size past which a new segment is started.
pub(super) const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Where a text is in the log. Encoded in 20 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TextRef {
    segment: u32,
    offset: u64,
    length: u32,
    crc: u32,
}

/// The encoded length of a [`TextRef`].
pub(super) const TEXT_REF_BYTES: usize = 20;

impl TextRef {
    /// Big-endian segment, offset, length and CRC.
    pub(super) fn to_bytes(self) -> [u8; TEXT_REF_BYTES] {
        let mut bytes = [0u8; TEXT_REF_BYTES];
        bytes[..4].copy_from_slice(&self.segment.to_be_bytes());
        bytes[4..12].copy_from_slice(&self.offset.to_be_bytes());
        bytes[12..16].copy_from_slice(&self.length.to_be_bytes());
        bytes[16..].copy_from_slice(&self.crc.to_be_bytes());
        bytes
    }

    /// The bytes the reference names.
    pub(super) fn length(self) -> u32 {
        self.length
    }

    /// The reference `to_bytes` encoded, or `None` for any other length.
    pub(super) fn from_bytes(bytes: &[u8]) -> Option<TextRef> {
        let bytes: &[u8; TEXT_REF_BYTES] = bytes.try_into().ok()?;
        let word = |range: std::ops::Range<usize>| -> Option<u32> {
            Some(u32::from_be_bytes(bytes.get(range)?.try_into().ok()?))
        };
        Some(TextRef {
            segment: word(0..4)?,
            offset: u64::from_be_bytes(bytes.get(4..12)?.try_into().ok()?),
            length: word(12..16)?,
            crc: word(16..20)?,
        })
    }
}

/// Why a text could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum TextReadError {
    /// Its bytes are not (all) on disk, or not the ones written: a power
    /// loss before the write that referenced them was acknowledged.
    #[error("text lost ({0})")]
    Lost(String),
    /// The file could not be read.
    #[error("text log: {0}")]
    Io(#[from] std::io::Error),
}

/// The segment being appended to.
struct Tail {
    segment: u32,
    file: Arc<File>,
    length: u64,
    /// Bytes appended since the last sync (none: nothing to sync).
    unsynced: u64,
}

/// Append-only segment files of texts.
pub(super) struct TextLog {
    directory: PathBuf,
    segment_bytes: u64,
    tail: Mutex<Tail>,
    /// Open segment files, for reading.
    readers: Mutex<HashMap<u32, Arc<File>>>,
    /// Bytes in all segment files.
    total_bytes: AtomicU64,
}

/// The files `<number><suffix>` of `directory` with their numbers, in order
/// (the segments of the text log and of the write-ahead log).
pub(super) fn numbered_files(
    directory: &Path,
    suffix: &str,
) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(directory)? {
        let path = entry?.path();
        let number = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(suffix))
            .and_then(|stem| stem.parse::<u64>().ok());
        if let Some(number) = number {
            found.push((number, path));
        }
    }
    found.sort();
    Ok(found)
}

/// Makes the entries of `directory` (files created or removed in it) survive a power loss.
pub(super) fn sync_directory(directory: &Path) -> std::io::Result<()> {
    File::open(directory)?.sync_all()
}

fn segment_path(directory: &Path, segment: u32) -> PathBuf {
    directory.join(format!("{segment:08}.log"))
}

/// Writes every byte of `buffers`, one after another, from `offset` of
/// `file`: `writev` calls from the file's position, set first (readers use
/// positional reads, so the position is the appender's alone), instead of
/// copying the buffers into one to write it (that copy, and the copies of
/// the buffer growing, were about 7 % of the submission writer thread's
/// time with 64 unary clients).
fn write_all_vectored_at(file: &File, buffers: &[&[u8]], offset: u64) -> std::io::Result<()> {
    use std::io::{IoSlice, Seek, SeekFrom, Write};
    let mut writer = file;
    writer.seek(SeekFrom::Start(offset))?;
    let mut slices: Vec<IoSlice<'_>> = buffers
        .iter()
        .filter(|buffer| !buffer.is_empty())
        .map(|buffer| IoSlice::new(buffer))
        .collect();
    let mut unwritten = &mut slices[..];
    while !unwritten.is_empty() {
        match writer.write_vectored(unwritten) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(written) => IoSlice::advance_slices(&mut unwritten, written),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

fn open_segment(directory: &Path, segment: u32) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(segment_path(directory, segment))
}

impl TextLog {
    /// Opens the log in `directory` (created if missing), appending to its
    /// newest segment. Bytes past the last referenced text (a write cut
    /// short) are left where they are: nothing points at them.
    pub(super) fn open(directory: &Path, segment_bytes: u64) -> std::io::Result<TextLog> {
        std::fs::create_dir_all(directory)?;
        let mut newest = 1u32;
        let mut total_bytes = 0u64;
        for (number, path) in numbered_files(directory, ".log")? {
            let Ok(number) = u32::try_from(number) else {
                continue;
            };
            newest = newest.max(number);
            total_bytes += std::fs::metadata(path)?.len();
        }
        let file = Arc::new(open_segment(directory, newest)?);
        let length = file.metadata()?.len();
        // The directory and the segment may have just been created: their
        // entries must survive a power loss like the texts written into them.
        sync_directory(directory)?;
        if let Some(parent) = directory.parent() {
            sync_directory(parent)?;
        }
        let mut readers = HashMap::new();
        readers.insert(newest, Arc::clone(&file));
        Ok(TextLog {
            directory: directory.to_path_buf(),
            segment_bytes: segment_bytes.max(1),
            tail: Mutex::new(Tail {
                segment: newest,
                file,
                length,
                unsynced: 0,
            }),
            readers: Mutex::new(readers),
            total_bytes: AtomicU64::new(total_bytes),
        })
    }

    /// Appends `texts` (one vectored write per segment they fall in, from the
    /// texts where they are: nothing is copied but into the page cache) and
    /// returns where each went. Not durable until [`TextLog::sync`].
    pub(super) fn append(&self, texts: &[&[u8]]) -> std::io::Result<Vec<TextRef>> {
        let mut tail = self.tail.lock().map_err(|_| poisoned())?;
        let mut refs = Vec::with_capacity(texts.len());
        // The texts of the tail segment not written yet: from `unwritten_from`,
        // `unwritten_bytes` in all.
        let mut unwritten_from = 0;
        let mut unwritten_bytes = 0u64;
        for (index, text) in texts.iter().enumerate() {
            let length = u32::try_from(text.len()).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "text over 4 GiB")
            })?;
            if tail.length + unwritten_bytes > 0
                && tail.length + unwritten_bytes + u64::from(length) > self.segment_bytes
            {
                self.write_texts(&mut tail, &texts[unwritten_from..index], unwritten_bytes)?;
                unwritten_from = index;
                unwritten_bytes = 0;
                self.start_segment(&mut tail)?;
            }
            refs.push(TextRef {
                segment: tail.segment,
                offset: tail.length + unwritten_bytes,
                length,
                crc: crc32fast::hash(text),
            });
            unwritten_bytes += u64::from(length);
        }
        self.write_texts(&mut tail, &texts[unwritten_from..], unwritten_bytes)?;
        Ok(refs)
    }

    /// Writes `texts` (`bytes` in all) one after another at the tail's end.
    fn write_texts(&self, tail: &mut Tail, texts: &[&[u8]], bytes: u64) -> std::io::Result<()> {
        if bytes == 0 {
            return Ok(());
        }
        write_all_vectored_at(&tail.file, texts, tail.length)?;
        tail.length += bytes;
        self.total_bytes.fetch_add(bytes, Ordering::Relaxed);
        tail.unsynced += bytes;
        Ok(())
    }

    /// Syncs the full segment and moves on to the next one.
    fn start_segment(&self, tail: &mut Tail) -> std::io::Result<()> {
        let segment = tail
            .segment
            .checked_add(1)
            .ok_or_else(|| std::io::Error::other("text log: segment numbers exhausted"))?;
        self.move_tail_to(tail, segment)
    }

    /// Syncs the tail segment, then appends to `segment` (created if missing)
    /// from its end.
    fn move_tail_to(&self, tail: &mut Tail, segment: u32) -> std::io::Result<()> {
        if tail.unsynced > 0 {
            tail.file.sync_data()?;
        }
        let file = Arc::new(open_segment(&self.directory, segment)?);
        // The new file's directory entry must survive a power loss too.
        sync_directory(&self.directory)?;
        let length = file.metadata()?.len();
        self.readers
            .lock()
            .map_err(|_| poisoned())?
            .insert(segment, Arc::clone(&file));
        *tail = Tail {
            segment,
            file,
            length,
            unsynced: 0,
        };
        Ok(())
    }

    /// Writes `bytes` back where `text_ref` says they were appended: the
    /// write-ahead log's replay after a crash that lost them with the page
    /// cache (see [`super::wal`]). Writing them again is harmless when they
    /// survived. The tail moves past them; durable after [`TextLog::sync`].
    pub(super) fn restore(&self, text_ref: TextRef, bytes: &[u8]) -> std::io::Result<()> {
        if u64::try_from(bytes.len()).ok() != Some(u64::from(text_ref.length))
            || crc32fast::hash(bytes) != text_ref.crc
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "bytes to restore do not match their reference",
            ));
        }
        let end = text_ref.offset + u64::from(text_ref.length);
        let mut tail = self.tail.lock().map_err(|_| poisoned())?;
        if text_ref.segment < tail.segment {
            // An earlier segment: rare (a replay across a rotation), so it is
            // synced at once rather than tracked.
            let file = open_segment(&self.directory, text_ref.segment)?;
            file.write_all_at(bytes, text_ref.offset)?;
            return file.sync_data();
        }
        if text_ref.segment > tail.segment {
            self.move_tail_to(&mut tail, text_ref.segment)?;
        }
        tail.file.write_all_at(bytes, text_ref.offset)?;
        if end > tail.length {
            self.total_bytes
                .fetch_add(end - tail.length, Ordering::Relaxed);
            tail.length = end;
        }
        tail.unsynced += bytes.len() as u64;
        Ok(())
    }

    /// Bytes in the log's segment files (counted at open, then as appended).
    pub(super) fn total_bytes(&self) -> u64 {
        self.total_bytes.load(Ordering::Relaxed)
    }

    /// Makes everything appended so far durable (nothing to do when nothing was).
    pub(super) fn sync(&self) -> std::io::Result<()> {
        let (file, unsynced) = {
            let mut tail = self.tail.lock().map_err(|_| poisoned())?;
            if tail.unsynced == 0 {
                return Ok(());
            }
            let unsynced = std::mem::take(&mut tail.unsynced);
            (Arc::clone(&tail.file), unsynced)
        };
        // Outside the lock, so appends go on meanwhile. On failure the bytes
        // are counted as unsynced again.
        file.sync_data().inspect_err(|_| {
            if let Ok(mut tail) = self.tail.lock() {
                tail.unsynced += unsynced;
            }
        })
    }

    /// Bytes appended since the last sync.
    pub(super) fn unsynced_bytes(&self) -> u64 {
        self.tail.lock().map_or(0, |tail| tail.unsynced)
    }

    /// The text at `text_ref`, checked against its length and CRC.
    pub(super) fn read(&self, text_ref: TextRef) -> Result<Vec<u8>, TextReadError> {
        let file = self.reader(text_ref.segment)?;
        let length = usize::try_from(text_ref.length)
            .map_err(|_| TextReadError::Lost("length beyond this platform".into()))?;
        let mut bytes = vec![0u8; length];
        match file.read_exact_at(&mut bytes, text_ref.offset) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(TextReadError::Lost(format!(
                    "segment {} ends before byte {}",
                    text_ref.segment,
                    text_ref.offset + u64::from(text_ref.length)
                )))
            }
            Err(error) => return Err(error.into()),
        }
        if crc32fast::hash(&bytes) != text_ref.crc {
            return Err(TextReadError::Lost(format!(
                "checksum mismatch at segment {} offset {}",
                text_ref.segment, text_ref.offset
            )));
        }
        Ok(bytes)
    }

    fn reader(&self, segment: u32) -> Result<Arc<File>, TextReadError> {
        let mut readers = self.readers.lock().map_err(|_| poisoned())?;
        if let Some(file) = readers.get(&segment) {
            return Ok(Arc::clone(file));
        }
        let path = segment_path(&self.directory, segment);
        let file = match File::open(&path) {
            Ok(file) => Arc::new(file),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(TextReadError::Lost(format!(
                    "{} is missing",
                    path.display()
                )))
            }
            Err(error) => return Err(error.into()),
        };
        readers.insert(segment, Arc::clone(&file));
        Ok(file)
    }

    /// The log's segment files, in order.
    #[cfg(test)]
    pub(super) fn segments(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut paths = std::fs::read_dir(&self.directory)?
            .map(|entry| entry.map(|entry| entry.path()))
            .collect::<Result<Vec<_>, _>>()?;
        paths.sort();
        Ok(paths)
    }
}

fn poisoned() -> std::io::Error {
    std::io::Error::other("text log lock poisoned")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(count: usize) -> Vec<Vec<u8>> {
        (0..count)
            .map(|index| {
                format!("Bài số {index}: đối thoại chính sách quốc phòng. ")
                    .repeat(index % 7 + 1)
                    .into_bytes()
            })
            .collect()
    }

    #[test]
    fn texts_read_back_across_segments_and_after_reopening() {
        let directory = tempfile::tempdir().expect("temp dir");
        let all = texts(40);
        let log = TextLog::open(directory.path(), 1000).expect("open");
        let first: Vec<&[u8]> = all[..25].iter().map(Vec::as_slice).collect();
        let mut refs = log.append(&first).expect("append");
        log.sync().expect("sync");
        assert!(
            log.segments().expect("segments").len() > 3,
            "segments rotate"
        );
        drop(log);

        let reopened = TextLog::open(directory.path(), 1000).expect("reopen");
        let rest: Vec<&[u8]> = all[25..].iter().map(Vec::as_slice).collect();
        refs.extend(reopened.append(&rest).expect("append after reopen"));
        for (text_ref, text) in refs.iter().zip(&all) {
            assert_eq!(&reopened.read(*text_ref).expect("read"), text);
            assert_eq!(TextRef::from_bytes(&text_ref.to_bytes()), Some(*text_ref));
        }
        assert_eq!(TextRef::from_bytes(&[0u8; 19]), None);
    }

    /// One append of more texts than one `writev` takes (1,024 buffers on
    /// Linux), empty ones among them, lands every byte where its reference
    /// says, and the segment holds them back to back.
    #[test]
    fn an_append_of_more_texts_than_one_write_takes_lands_them_all() {
        let directory = tempfile::tempdir().expect("temp dir");
        let log = TextLog::open(directory.path(), SEGMENT_BYTES).expect("open");
        let all: Vec<Vec<u8>> = (0..3000usize)
            .map(|number| match number % 7 {
                0 => Vec::new(),
                _ => format!("văn bản số {number};")
                    .repeat(number % 5 + 1)
                    .into_bytes(),
            })
            .collect();
        let borrowed: Vec<&[u8]> = all.iter().map(Vec::as_slice).collect();
        let refs = log.append(&borrowed).expect("append");
        log.sync().expect("sync");
        for (text_ref, text) in refs.iter().zip(&all) {
            assert_eq!(&log.read(*text_ref).expect("read"), text);
        }
        let segment = std::fs::read(segment_path(directory.path(), 1)).expect("segment");
        assert_eq!(segment, all.concat());
        assert_eq!(log.total_bytes(), segment.len() as u64);
    }

    #[test]
    fn a_text_whose_bytes_did_not_survive_reads_as_lost() {
        let directory = tempfile::tempdir().expect("temp dir");
        let log = TextLog::open(directory.path(), SEGMENT_BYTES).expect("open");
        let refs = log
            .append(&[b"first text".as_slice(), b"second text".as_slice()])
            .expect("append");
        let path = segment_path(directory.path(), 1);
        // A power loss that kept the first write only.
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open file");
        file.set_len(10).expect("truncate");
        assert_eq!(log.read(refs[0]).expect("first"), b"first text");
        assert!(matches!(log.read(refs[1]), Err(TextReadError::Lost(_))));
        // Other bytes where the text was.
        file.write_all_at(b"FIRST", 0).expect("overwrite");
        assert!(matches!(log.read(refs[0]), Err(TextReadError::Lost(_))));
        // A segment that is not there at all.
        let missing = TextRef {
            segment: 9,
            ..refs[0]
        };
        assert!(matches!(log.read(missing), Err(TextReadError::Lost(_))));
    }

    /// What the model-based test does to the log.
    #[derive(Debug, Clone)]
    enum Step {
        /// Appends texts of these lengths (one call).
        Append(Vec<usize>),
        Sync,
        /// Drops the log and opens it again.
        Reopen,
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        prop_oneof![
            4 => proptest::collection::vec(0usize..700, 0..6).prop_map(Step::Append),
            1 => Just(Step::Sync),
            1 => Just(Step::Reopen),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..proptest::prelude::ProptestConfig::default() })]

        /// Every text appended reads back as written, whatever the segment
        /// size, across syncs and reopens, and no segment outgrows its size
        /// unless a single text does.
        #[test]
        fn the_log_matches_the_model_across_reopens(
            steps in proptest::collection::vec(step(), 1..30),
            segment_bytes in 1u64..2048,
        ) {
            let directory = tempfile::tempdir().expect("temp dir");
            let mut log = TextLog::open(directory.path(), segment_bytes).expect("open");
            let mut model: Vec<(TextRef, Vec<u8>)> = Vec::new();
            for step in steps {
                match step {
                    Step::Append(lengths) => {
                        let texts: Vec<Vec<u8>> = lengths
                            .iter()
                            .map(|length| (0..*length).map(|byte| (byte * 7 + model.len()) as u8).collect())
                            .collect();
                        let slices: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
                        let refs = log.append(&slices).expect("append");
                        proptest::prop_assert_eq!(refs.len(), texts.len());
                        model.extend(refs.into_iter().zip(texts));
                    }
                    Step::Sync => log.sync().expect("sync"),
                    Step::Reopen => {
                        drop(log);
                        log = TextLog::open(directory.path(), segment_bytes).expect("reopen");
                    }
                }
                for (text_ref, text) in &model {
                    proptest::prop_assert_eq!(&log.read(*text_ref).expect("read"), text);
                }
            }
            let on_disk: u64 = log
                .segments()
                .expect("segments")
                .iter()
                .map(|path| std::fs::metadata(path).expect("segment").len())
                .sum();
            proptest::prop_assert_eq!(log.total_bytes(), on_disk);
            let written: usize = model.iter().map(|(_, text)| text.len()).sum();
            proptest::prop_assert_eq!(on_disk, written as u64);
            let largest = model.iter().map(|(_, text)| text.len() as u64).max().unwrap_or(0);
            for path in log.segments().expect("segments") {
                let length = std::fs::metadata(&path).expect("segment").len();
                proptest::prop_assert!(length <= segment_bytes.max(largest), "{} is {length} bytes", path.display());
            }
        }
    }
}
