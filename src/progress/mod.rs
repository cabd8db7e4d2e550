//! The learner's progress: last lesson and place, lessons read, answers given.
//!
//! Kept as JSON in the user's state directory and written safely ([`crate::fsio::write`]:
//! temporary file, then rename), so a crash or a kill mid-write never leaves a half-written
//! file behind.
//!
//! Two tutors may share a state folder (two terminals, two logins on one cluster account):
//! each save takes a short lock (`progress.json.lock`), re-reads the file and merges into it
//! what this tutor knows, so neither loses the other's answers: lessons read and puzzles
//! solved are the union, and of two different answers to one check the newer is kept (each
//! answer carries when it was given). A file written by a newer hpc-tutor (a higher
//! `version`) is kept as `progress.json.newer-v<N>.bak` before it is replaced.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use serde::{Deserialize, Serialize};

use crate::fsio::WriteError;

use crate::lesson::Answer;

/// Everything remembered between sessions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    /// Format version of the file.
    pub version: u32,
    /// The lesson open when the tutor last closed, if one was.
    pub last_lesson: Option<String>,
    /// Per lesson id.
    pub lessons: BTreeMap<String, LessonProgress>,
    /// This learner's seed for the order in which multiple-choice options are shown:
    /// random, chosen once when the progress file is first loaded, so the order differs
    /// between learners and stays the same for one. 0 (tests, files from before it) still
    /// shuffles, by the lesson's and check's ids alone.
    #[serde(skip_serializing_if = "is_zero")]
    pub learner: u64,
    /// Commands run on the "Your program" screen, newest first (at most
    /// [`RECENT_COMMANDS`]): `←`/`→` on its command field bring them back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recent_commands: Vec<String>,
    /// Commands of programs from lessons loaded with `--lessons` that the learner agreed to
    /// run (asked once each).
    #[serde(skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub approved_programs: std::collections::BTreeSet<String>,
}

/// How many recent commands are remembered.
pub const RECENT_COMMANDS: usize = 10;

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl Progress {
    /// Remembers `command` as the newest one run.
    pub fn remember_command(&mut self, command: &str) {
        self.recent_commands.retain(|c| c != command);
        self.recent_commands.insert(0, command.to_owned());
        self.recent_commands.truncate(RECENT_COMMANDS);
    }

    /// A fresh start for a new learner: empty, with a random seed of its own.
    pub fn new_learner() -> Self {
        Self {
            // std's hasher keys are random per process (from the OS): a random seed
            // without another dependency.
            learner: {
                use std::hash::BuildHasher;
                std::collections::hash_map::RandomState::new()
                    .hash_one(now_millis())
                    .max(1)
            },
            ..Self::default()
        }
    }
}

/// Progress in one lesson.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LessonProgress {
    /// The learner has scrolled to the end of the text.
    pub read: bool,
    /// First visible line of the reader.
    pub scroll: usize,
    /// How many lines the text had when `scroll` was saved, so the place can be kept when
    /// the terminal width (and so the wrapping) changes.
    pub scroll_of: usize,
    /// The latest answer to each check, by check id.
    pub answers: BTreeMap<String, Answer>,
    /// Ids of the puzzles solved.
    pub puzzles_solved: std::collections::BTreeSet<String>,
    /// When each answer was given, by check id, in milliseconds since 1970 (see
    /// [`LessonProgress::record_answer`]): when two tutors saved different answers to one
    /// check, the newer is kept. Answers from files without it count as given at 0.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub answered_at: BTreeMap<String, u64>,
}

impl LessonProgress {
    /// Records `answer` to check `check_id`, given now.
    pub fn record_answer(&mut self, check_id: String, answer: Answer) {
        self.answered_at.insert(check_id.clone(), now_millis());
        self.answers.insert(check_id, answer);
    }

    /// Puts what `mine` (this tutor's) knows into `self` (the file's): read if either read
    /// it, the puzzles either solved, every answer either gave (the newer of two different
    /// ones; this tutor's on a tie), and this tutor's place in the text.
    fn merge_from(&mut self, mine: &LessonProgress) {
        self.read |= mine.read;
        self.scroll = mine.scroll;
        self.scroll_of = mine.scroll_of;
        self.puzzles_solved
            .extend(mine.puzzles_solved.iter().cloned());
        for (check, answer) in &mine.answers {
            let my_time = mine.answered_at.get(check).copied().unwrap_or(0);
            let their_time = self.answered_at.get(check).copied().unwrap_or(0);
            let time = match self.answers.get(check) {
                None => my_time,
                Some(theirs) if theirs == answer => my_time.max(their_time),
                Some(_) if my_time >= their_time => my_time,
                Some(_) => continue,
            };
            self.answers.insert(check.clone(), answer.clone());
            if time > 0 {
                self.answered_at.insert(check.clone(), time);
            }
        }
    }
}

impl Progress {
    /// The file's progress `disk` with what this tutor's `self` knows merged in (see
    /// [`LessonProgress`]'s merge): nothing either tutor recorded is lost. The last lesson
    /// open is this tutor's.
    pub fn merged_into(&self, disk: Progress) -> Progress {
        let mut out = disk;
        out.version = VERSION;
        // The first seed saved stays: the options keep their order for this learner.
        if out.learner == 0 {
            out.learner = self.learner;
        }
        out.last_lesson.clone_from(&self.last_lesson);
        // This tutor's recent commands first, then the file's others.
        let mut recent = self.recent_commands.clone();
        for c in std::mem::take(&mut out.recent_commands) {
            if !recent.contains(&c) {
                recent.push(c);
            }
        }
        recent.truncate(RECENT_COMMANDS);
        out.recent_commands = recent;
        out.approved_programs
            .extend(self.approved_programs.iter().cloned());
        for (id, mine) in &self.lessons {
            out.lessons.entry(id.clone()).or_default().merge_from(mine);
        }
        out
    }
}

/// Milliseconds since 1970.
fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The `version` of a progress file's JSON, if it has one.
fn version_of(bytes: &[u8]) -> Option<u64> {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()?
        .get("version")?
        .as_u64()
}

/// The largest progress file read (a FIFO or a device is not read at all).
const MAX_BYTES: u64 = 64 * crate::input::MIB;

/// The current format version.
pub const VERSION: u32 = 1;

/// Why progress could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    /// Writing the file (or a backup of it) failed: `cannot write PATH: …`.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Another tutor held the lock for longer than a save takes.
    #[error(
        "cannot write {}: another hpc-tutor has held its lock ({}) for {:.1} s",
        path.display(),
        lock.display(),
        LOCK_WAIT.as_secs_f64()
    )]
    Busy {
        /// The progress file.
        path: PathBuf,
        /// Its lock file.
        lock: PathBuf,
    },
}

/// How long a save waits for another tutor's save to end (a save takes milliseconds).
const LOCK_WAIT: std::time::Duration = if cfg!(test) {
    std::time::Duration::from_millis(300)
} else {
    std::time::Duration::from_secs(2)
};

/// Where progress lives on disk.
#[derive(Debug, Clone)]
pub struct ProgressStore {
    path: PathBuf,
}

/// The result of loading: the progress, and a warning to show once if the file was bad.
#[derive(Debug)]
pub struct Loaded {
    /// The progress (empty if there was none or it could not be read).
    pub progress: Progress,
    /// Set when the file was unreadable or corrupt; says where the old file was moved.
    pub warning: Option<String>,
}

impl ProgressStore {
    /// A store keeping its file in `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            path: dir.into().join("progress.json"),
        }
    }

    /// The default place: `$HPC_TUTOR_STATE_DIR` if set, else the XDG state directory
    /// (`~/.local/state/hpc-tutor` on Linux). `None` when no home directory is known.
    pub fn default_location() -> Option<Self> {
        if let Some(dir) = std::env::var_os("HPC_TUTOR_STATE_DIR").filter(|d| !d.is_empty()) {
            return Some(Self::in_dir(dir));
        }
        let dirs = directories::ProjectDirs::from("", "", "hpc-tutor")?;
        let dir = dirs
            .state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_path_buf();
        Some(Self::in_dir(dir))
    }

    /// The progress file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads progress. A missing file is a fresh start; an unreadable or corrupt one is
    /// moved aside to `progress.json.corrupt-<unix seconds>` and reported in the warning,
    /// and the learner starts fresh rather than being stopped.
    pub fn load(&self) -> Loaded {
        let bytes = match crate::input::read_regular(&self.path, MAX_BYTES, "a progress file") {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Loaded {
                    progress: Progress::new_learner(),
                    warning: None,
                };
            }
            Err(e) => {
                return Loaded {
                    progress: Progress::default(),
                    warning: Some(format!(
                        "cannot read progress file {}: {e}; starting fresh (nothing will overwrite it until you answer or quit)",
                        self.path.display()
                    )),
                };
            }
        };
        let newer = version_of(&bytes).filter(|&v| v > u64::from(VERSION));
        let newer_note = |v: u64| {
            format!(
                "progress file {} was written by a newer hpc-tutor (format version {v}; this one knows {VERSION}): it will be kept as {} when progress is saved",
                self.path.display(),
                self.newer_backup(v).display()
            )
        };
        match serde_json::from_slice::<Progress>(&bytes) {
            Ok(mut p) => Loaded {
                progress: {
                    if p.learner == 0 {
                        p.learner = Progress::new_learner().learner;
                    }
                    p
                },
                warning: newer
                    .map(|v| format!("{}; what this version understands is used", newer_note(v))),
            },
            Err(e) if newer.is_some() => Loaded {
                progress: Progress::default(),
                warning: newer
                    .map(|v| format!("{}; it cannot be read ({e}): starting fresh", newer_note(v))),
            },
            Err(e) => {
                let backup = self.corrupt_backup();
                let moved = match std::fs::rename(&self.path, &backup) {
                    Ok(()) => format!("kept as {}", backup.display()),
                    Err(re) => format!("could not move it aside ({re})"),
                };
                Loaded {
                    progress: Progress::default(),
                    warning: Some(format!(
                        "progress file {} is corrupt ({e}); {moved}; starting fresh",
                        self.path.display()
                    )),
                }
            }
        }
    }

    /// Where a file written by a newer hpc-tutor, of format `version`, is kept before it is
    /// replaced: `progress.json.newer-v<version>.bak`.
    pub fn newer_backup(&self, version: u64) -> PathBuf {
        self.path
            .with_file_name(format!("progress.json.newer-v{version}.bak"))
    }

    /// Where a corrupt file is kept: `progress.json.corrupt-<unix seconds>`.
    fn corrupt_backup(&self) -> PathBuf {
        let stamp = now_millis() / 1000;
        self.path
            .with_file_name(format!("progress.json.corrupt-{stamp}"))
    }

    /// The lock file that serializes saves: `progress.json.lock`.
    fn lock_path(&self) -> PathBuf {
        self.path.with_file_name("progress.json.lock")
    }

    /// Saves progress: under the folder's lock, re-reads the file and merges `progress`
    /// into it (see the module notes), keeps a file of a newer format as a backup, then
    /// writes the result safely ([`crate::fsio::write`]: temporary file, synced, renamed).
    /// Returns what was written: `progress` with what another tutor saved merged in.
    pub fn save(&self, progress: &Progress) -> Result<Progress, ProgressError> {
        let fail = |source| WriteError {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let _lock = self.lock()?;
        let merged = match std::fs::read(&self.path) {
            Ok(bytes) => {
                if let Some(v) = version_of(&bytes).filter(|&v| v > u64::from(VERSION)) {
                    crate::fsio::write(&self.newer_backup(v), &bytes)?;
                }
                match serde_json::from_slice::<Progress>(&bytes) {
                    Ok(disk) => progress.merged_into(disk),
                    // Kept above if it is of a newer format; else corrupt since it was
                    // loaded: kept too, as loading keeps one.
                    Err(_) => {
                        if version_of(&bytes).is_none_or(|v| v <= u64::from(VERSION)) {
                            crate::fsio::write(&self.corrupt_backup(), &bytes)?;
                        }
                        progress.merged_into(Progress::default())
                    }
                }
            }
            // Missing, or unreadable: what this tutor has is what there is.
            Err(_) => progress.merged_into(Progress::default()),
        };
        // Serializing plain maps, strings and numbers cannot fail.
        let json =
            serde_json::to_vec_pretty(&merged).map_err(|e| fail(std::io::Error::other(e)))?;
        crate::fsio::write(&self.path, &json)?;
        Ok(merged)
    }

    /// Takes the lock that serializes saves, waiting up to [`LOCK_WAIT`] for another tutor's
    /// save to end. Where locks cannot be had at all (a file system without them), saving
    /// goes on without one.
    fn lock(&self) -> Result<Option<Flock<File>>, ProgressError> {
        use nix::errno::Errno;
        let path = self.lock_path();
        let Ok(mut file) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
        else {
            // A read-only folder: the write fails below and says so.
            return Ok(None);
        };
        let start = std::time::Instant::now();
        loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => return Ok(Some(lock)),
                Err((f, Errno::EWOULDBLOCK)) if start.elapsed() < LOCK_WAIT => {
                    file = f;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err((_, Errno::EWOULDBLOCK)) => {
                    return Err(ProgressError::Busy {
                        path: self.path.clone(),
                        lock: path,
                    });
                }
                Err(_) => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_fresh_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ProgressStore::in_dir(dir.path().join("nested"));
        let fresh = store.load();
        assert_eq!(
            Progress {
                learner: 0,
                ..fresh.progress.clone()
            },
            Progress::default()
        );
        assert_ne!(fresh.progress.learner, 0, "a new learner gets a seed");
        assert!(fresh.warning.is_none());

        let mut p = Progress {
            last_lesson: Some("amdahl".into()),
            ..Progress::default()
        };
        let lp = p.lessons.entry("amdahl".into()).or_default();
        lp.read = true;
        lp.scroll = 12;
        lp.answers
            .insert("limit".into(), Answer::Choice("20".into()));
        lp.answers.insert("s4".into(), Answer::Number(2.29));
        store.save(&p).expect("save");
        let back = store.load();
        assert!(back.warning.is_none());
        assert_eq!(back.progress.lessons, p.lessons);
        assert_eq!(back.progress.version, VERSION);
        // No temporary file is left behind; the lock file stays (removing it would let two
        // savers hold "the" lock on two different files).
        assert_eq!(
            names(&dir.path().join("nested")),
            ["progress.json", "progress.json.lock"]
        );
    }

    /// The sorted names in `dir`.
    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// `lesson`'s progress with `answers` (check, answer, given at) and the rest default.
    fn lesson_with(answers: &[(&str, f64, u64)]) -> LessonProgress {
        let mut lp = LessonProgress::default();
        for &(check, value, at) in answers {
            lp.answers.insert(check.into(), Answer::Number(value));
            lp.answered_at.insert(check.into(), at);
        }
        lp
    }

    /// Two tutors on one state folder, each saving what it has: neither loses the other's
    /// answers, lessons read or puzzles solved, and of two answers to one check the newer
    /// is kept, whichever tutor saves last.
    #[test]
    fn two_tutors_on_one_folder_keep_each_others_answers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a_store, b_store) = (
            ProgressStore::in_dir(dir.path()),
            ProgressStore::in_dir(dir.path()),
        );
        let mut a = a_store.load().progress;
        let mut b = b_store.load().progress;

        let la = a.lessons.entry("amdahl".into()).or_default();
        *la = lesson_with(&[("limit", 20.0, 1_000)]);
        la.read = true;
        a.last_lesson = Some("amdahl".into());
        a_store.save(&a).expect("a saves");

        let lb = b.lessons.entry("amdahl".into()).or_default();
        *lb = lesson_with(&[("s4", 2.3, 2_000)]);
        lb.puzzles_solved.insert("deadlock".into());
        lb.scroll = 7;
        b.lessons.entry("gustafson".into()).or_default().read = true;
        let saved = b_store.save(&b).expect("b saves");

        let on_disk = a_store.load().progress;
        assert_eq!(saved, on_disk, "save returns what it wrote");
        let amdahl = &on_disk.lessons["amdahl"];
        assert_eq!(
            amdahl.answers["limit"],
            Answer::Number(20.0),
            "a's answer kept"
        );
        assert_eq!(amdahl.answers["s4"], Answer::Number(2.3));
        assert!(amdahl.read, "a read it");
        assert!(amdahl.puzzles_solved.contains("deadlock"), "b solved it");
        assert_eq!(amdahl.scroll, 7, "the place of whoever saved last");
        assert!(on_disk.lessons["gustafson"].read);
        assert_eq!(on_disk.last_lesson, None, "b closed in the catalogue");

        // a answers s4 again, later than b did; b, still holding its older answer, saves
        // again: a's newer answer stays.
        a.lessons
            .entry("amdahl".into())
            .or_default()
            .answers
            .insert("s4".into(), Answer::Number(2.9));
        a.lessons
            .entry("amdahl".into())
            .or_default()
            .answered_at
            .insert("s4".into(), 3_000);
        a_store.save(&a).expect("a saves");
        b_store.save(&b).expect("b saves");
        let amdahl = &a_store.load().progress.lessons["amdahl"];
        assert_eq!(
            amdahl.answers["s4"],
            Answer::Number(2.9),
            "the newer answer"
        );
        assert_eq!(amdahl.answered_at["s4"], 3_000);
        assert!(amdahl.puzzles_solved.contains("deadlock"));

        // b answers it once more, later still: now b's is the newer.
        b.lessons
            .entry("amdahl".into())
            .or_default()
            .answered_at
            .insert("s4".into(), 4_000);
        b_store.save(&b).expect("b saves");
        assert_eq!(
            a_store.load().progress.lessons["amdahl"].answers["s4"],
            Answer::Number(2.3)
        );
    }

    #[test]
    fn record_answer_stamps_the_time() {
        let mut lp = LessonProgress::default();
        let before = now_millis();
        lp.record_answer("limit".into(), Answer::Choice("20".into()));
        assert_eq!(lp.answers["limit"], Answer::Choice("20".into()));
        assert!(lp.answered_at["limit"] >= before);
    }

    /// A file of a newer format is read as far as this version understands it, said so on
    /// loading, and kept byte for byte as `progress.json.newer-v3.bak` before it is replaced.
    #[test]
    fn a_newer_file_is_kept_as_a_backup_before_it_is_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ProgressStore::in_dir(dir.path());
        let newer = r#"{"version":3,"lessons":{"amdahl":{"read":true,"streak":5}},"badges":["x"]}"#;
        std::fs::write(store.path(), newer).expect("write");
        let loaded = store.load();
        let warning = loaded.warning.expect("says so");
        assert!(
            warning.contains("newer hpc-tutor (format version 3"),
            "{warning}"
        );
        assert!(warning.contains("progress.json.newer-v3.bak"), "{warning}");
        assert!(
            loaded.progress.lessons["amdahl"].read,
            "understood parts are used"
        );

        let mut p = loaded.progress;
        p.lessons.entry("gustafson".into()).or_default().read = true;
        store.save(&p).expect("saved");
        assert_eq!(
            std::fs::read_to_string(store.newer_backup(3)).expect("backup"),
            newer
        );
        let saved = store.load();
        assert!(saved.warning.is_none());
        assert_eq!(saved.progress.version, VERSION);
        assert!(saved.progress.lessons["gustafson"].read);
        assert!(saved.progress.lessons["amdahl"].read);

        // One this version cannot read at all is not called corrupt, and is kept too.
        std::fs::write(store.path(), r#"{"version":4,"lessons":["a list now"]}"#).expect("write");
        let loaded = store.load();
        let warning = loaded.warning.expect("says so");
        assert!(warning.contains("format version 4"), "{warning}");
        assert!(store.path().exists(), "not moved aside as corrupt");
        store.save(&loaded.progress).expect("saved");
        assert!(store.newer_backup(4).exists());
        assert_eq!(
            names(dir.path()),
            [
                "progress.json",
                "progress.json.lock",
                "progress.json.newer-v3.bak",
                "progress.json.newer-v4.bak"
            ]
        );
    }

    /// A folder that cannot be written makes saving fail with the file's path in the
    /// message (for root too: a folder under a file cannot be made by anyone).
    #[test]
    fn an_unwritable_folder_fails_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("file");
        std::fs::write(&file, "x").expect("write");
        let store = ProgressStore::in_dir(file.join("state"));
        let e = store
            .save(&Progress::default())
            .expect_err("cannot be saved");
        assert_eq!(
            e.to_string(),
            format!(
                "cannot write {}: Not a directory (os error 20)",
                store.path().display()
            )
        );

        // A read-only folder: root may write there anyway.
        if nix::unistd::geteuid().is_root() {
            eprintln!(
                "skipped the read-only folder: running as root, which ignores permission bits"
            );
            return;
        }
        use std::os::unix::fs::PermissionsExt;
        let ro = dir.path().join("ro");
        std::fs::create_dir(&ro).expect("mkdir");
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
        let store = ProgressStore::in_dir(&ro);
        let e = store.save(&Progress::default()).expect_err("read-only");
        assert!(
            e.to_string()
                .starts_with(&format!("cannot write {}: ", store.path().display())),
            "{e}"
        );
    }

    /// A save waits for another tutor's save to end; one that never ends is an error.
    #[test]
    fn saves_wait_for_each_other() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ProgressStore::in_dir(dir.path());
        store.save(&Progress::default()).expect("first save");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(store.lock_path())
            .expect("lock file");
        let held = Flock::lock(file, FlockArg::LockExclusiveNonblock).expect("held");
        let e = store.save(&Progress::default()).expect_err("busy");
        assert!(matches!(e, ProgressError::Busy { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("another hpc-tutor has held its lock"),
            "{e}"
        );
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(held);
        });
        store
            .save(&Progress::default())
            .expect("saved once the other is done");
        release.join().expect("thread");
    }

    #[test]
    fn corrupt_file_is_set_aside_and_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ProgressStore::in_dir(dir.path());
        std::fs::write(store.path(), b"{ not json").expect("write");
        let loaded = store.load();
        assert_eq!(loaded.progress, Progress::default());
        let warning = loaded.warning.expect("a warning");
        assert!(warning.contains("corrupt"), "{warning}");
        assert!(!store.path().exists());
        let backups: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("progress.json.corrupt-")
            })
            .collect();
        assert_eq!(backups.len(), 1);
        // A second load is a quiet fresh start: reported once.
        assert!(store.load().warning.is_none());
    }
}
