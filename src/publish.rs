//! Replacing a directory all at once: the output directory of `compute`
//! always holds one complete set of files, the previous run's or the new
//! one's, whatever happens to the run (a signal, a full disk, a second run
//! into the same directory).
//!
//! How (docs/decisions in the README, "Output directory"):
//! - [`Publish::begin`] takes an advisory lock (`.<name>.lock` beside the
//!   directory, `flock`), so a second run fails at once with a clear message
//!   instead of mixing its files with the first one's; removes what a killed
//!   run left (`.<name>.convstats-*` beside the directory); refuses a
//!   directory that holds files convstats did not write (it is replaced
//!   whole); and creates a fresh staging directory beside it.
//! - The run writes every file into the staging directory.
//! - [`Publish::commit`] syncs every file and the staging directory, then
//!   exchanges it with the output directory in one `renameat2(RENAME_EXCHANGE)`
//!   (Linux; elsewhere, or on a file system without it, two renames with a
//!   moment where the directory is absent, but never a mix), syncs the parent
//!   directory, and removes the previous set on a background thread.
//! - Dropped without a commit (an error), the staging directory is removed.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// What went wrong before or while publishing.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The output path cannot be used (exit 2: fix the arguments).
    #[error("{0}")]
    Unusable(String),
    /// Another run holds the directory's lock.
    #[error(
        "another convstats run is writing into {out} (it holds the lock {lock}); wait for it to finish, or choose another --out"
    )]
    Locked { out: PathBuf, lock: PathBuf },
    /// A file system operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl PublishError {
    fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> PublishError + 'a {
        move |source| PublishError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Marks the names of staging and retired directories beside the output.
const MARK: &str = ".convstats-";

/// A staging directory that becomes the output directory on [`commit`](Publish::commit).
#[derive(Debug)]
pub struct Publish {
    out: PathBuf,
    staging: PathBuf,
    retired: PathBuf,
    /// Held (flock) until the set is published and this value is dropped.
    _lock: File,
    committed: bool,
}

/// The previous set being removed after a commit; [`Retired::wait`] joins it.
#[derive(Debug)]
pub struct Retired(Option<std::thread::JoinHandle<()>>);

impl Retired {
    /// Waits until the previous set is removed.
    pub fn wait(self) {
        if let Some(h) = self.0 {
            let _ = h.join();
        }
    }
}

impl Publish {
    /// Locks `out`, removes what killed runs left beside it and creates the
    /// staging directory. `ours` lists the only file names `out` may hold.
    pub fn begin(out: &Path, ours: &[&str]) -> Result<Publish, PublishError> {
        // A symbolic link stays: the directory it points to is replaced.
        let out = match fs::symlink_metadata(out) {
            Ok(m) if m.file_type().is_symlink() => {
                fs::canonicalize(out).map_err(PublishError::io("cannot resolve", out))?
            }
            _ => out.to_path_buf(),
        };
        let Some(name) = out.file_name().and_then(|n| n.to_str()) else {
            return Err(PublishError::Unusable(format!(
                "--out {} names no directory of its own (it ends in . or .., or is a root or not UTF-8); give a directory name such as ./out",
                out.display()
            )));
        };
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(PublishError::io("cannot create", &parent))?;
        let lock_path = parent.join(format!(".{name}.lock"));
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(PublishError::io("cannot create the lock file", &lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(PublishError::Locked {
                    out: out.clone(),
                    lock: lock_path,
                });
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(PublishError::Io {
                    what: "cannot lock",
                    path: lock_path,
                    source: e,
                });
            }
        }
        check_existing(&out, ours)?;
        remove_leftovers(&parent, name)?;
        let pid = std::process::id();
        let staging = parent.join(format!(".{name}{MARK}new-{pid}"));
        let retired = parent.join(format!(".{name}{MARK}old-{pid}"));
        fs::create_dir(&staging).map_err(PublishError::io(
            "cannot create the staging directory",
            &staging,
        ))?;
        Ok(Publish {
            out,
            staging,
            retired,
            _lock: lock,
            committed: false,
        })
    }

    /// Where the run writes its files.
    pub fn dir(&self) -> &Path {
        &self.staging
    }

    /// The directory the files are published into.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// Syncs the staging directory and puts it in place of the output
    /// directory; the previous set is removed in the background.
    pub fn commit(mut self) -> Result<Retired, PublishError> {
        for entry in
            fs::read_dir(&self.staging).map_err(PublishError::io("cannot list", &self.staging))?
        {
            let path = entry
                .map_err(PublishError::io("cannot list", &self.staging))?
                .path();
            sync(&path)?;
        }
        sync(&self.staging)?;
        let previous = match fs::symlink_metadata(&self.out) {
            Ok(_) => Some(exchange(&self.staging, &self.out, &self.retired)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::rename(&self.staging, &self.out).map_err(PublishError::io(
                    "cannot move the new outputs to",
                    &self.out,
                ))?;
                None
            }
            Err(e) => {
                return Err(PublishError::Io {
                    what: "cannot inspect",
                    path: self.out.clone(),
                    source: e,
                });
            }
        };
        self.committed = true;
        // The new set is in place and complete; a failed sync of the parent
        // only weakens what survives a power loss, so it is said, not failed.
        if let Some(parent) = self.out.parent().filter(|p| !p.as_os_str().is_empty())
            && let Err(e) = sync(parent)
        {
            tracing::warn!("{e}; the new outputs are in place, but may not survive a power loss");
        }
        let Some(old) = previous else {
            return Ok(Retired(None));
        };
        let remove = move || {
            if let Err(e) = fs::remove_dir_all(&old) {
                tracing::warn!(
                    "could not remove the previous outputs {}: {e}; the next run removes them",
                    old.display()
                );
            }
        };
        // Freeing gigabytes of an old file's pages blocks for a second or
        // more (docs/benchmarks.md): done beside whatever comes next.
        Ok(Retired(
            std::thread::Builder::new()
                .name("remove-old-outputs".into())
                .spawn(remove)
                .ok(),
        ))
    }
}

impl Drop for Publish {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// `out` must be absent, or a directory holding only names of `ours`.
fn check_existing(out: &Path, ours: &[&str]) -> Result<(), PublishError> {
    let meta = match fs::metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(PublishError::Io {
                what: "cannot inspect",
                path: out.to_path_buf(),
                source: e,
            });
        }
    };
    if !meta.is_dir() {
        return Err(PublishError::Unusable(format!(
            "--out {} exists and is not a directory; give a directory (it is created when absent)",
            out.display()
        )));
    }
    let mut foreign = Vec::new();
    for entry in fs::read_dir(out).map_err(PublishError::io("cannot list", out))? {
        let entry = entry.map_err(PublishError::io("cannot list", out))?;
        let name = entry.file_name();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        let is_ours = name
            .to_str()
            .is_some_and(|n| is_file && (ours.contains(&n) || is_old_leftover(n, ours)));
        if !is_ours {
            foreign.push(name.to_string_lossy().into_owned());
        }
    }
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    let shown = foreign.len().min(5);
    let more = if foreign.len() > shown {
        format!(" and {} more", foreign.len() - shown)
    } else {
        String::new()
    };
    Err(PublishError::Unusable(format!(
        "--out {} holds entries convstats did not write ({}{more}); compute replaces the whole directory, so give an empty directory, a new one, or one that only holds convstats outputs",
        out.display(),
        foreign[..shown].join(", ")
    )))
}

/// `.<file>.old-<pid>`: what convstats 0.1 left inside the directory when
/// killed while replacing its files; removed with the rest of the old set.
fn is_old_leftover(name: &str, ours: &[&str]) -> bool {
    name.strip_prefix('.')
        .and_then(|n| n.rsplit_once(".old-"))
        .is_some_and(|(file, pid)| {
            ours.contains(&file) && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
        })
}

/// Removes the staging and retired directories that killed runs left
/// beside `out` (the caller holds the lock, so no live run uses them).
fn remove_leftovers(parent: &Path, name: &str) -> Result<(), PublishError> {
    let prefix = format!(".{name}{MARK}");
    for entry in fs::read_dir(parent).map_err(PublishError::io("cannot list", parent))? {
        let Ok(entry) = entry else { continue };
        let file_name = entry.file_name();
        let Some(n) = file_name.to_str() else {
            continue;
        };
        let rest = n.strip_prefix(&prefix);
        let ours = rest.is_some_and(|r| {
            (r.starts_with("new-") || r.starts_with("old-"))
                && r[4..].bytes().all(|b| b.is_ascii_digit())
        });
        if ours {
            let path = entry.path();
            tracing::debug!("removing {}, left by an interrupted run", path.display());
            fs::remove_dir_all(&path)
                .map_err(PublishError::io("cannot remove the leftover", &path))?;
        }
    }
    Ok(())
}

fn sync(path: &Path) -> Result<(), PublishError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(PublishError::io("cannot sync", path))
}

/// Puts `staging` in place of `out`; returns where the previous set now
/// lies (`retired`, or `staging` itself when it could not be renamed). Once
/// the new set is in place nothing fails; before, nothing has changed (the
/// fallback puts the previous set back when its second rename fails).
fn exchange(staging: &Path, out: &Path, retired: &Path) -> Result<PathBuf, PublishError> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, staging, CWD, out, RenameFlags::EXCHANGE) {
            Ok(()) => {
                return Ok(match fs::rename(staging, retired) {
                    Ok(()) => retired.to_path_buf(),
                    Err(_) => staging.to_path_buf(),
                });
            }
            // The file system (or kernel) cannot exchange: two renames below.
            Err(e)
                if e == rustix::io::Errno::INVAL
                    || e == rustix::io::Errno::NOSYS
                    || e == rustix::io::Errno::OPNOTSUPP => {}
            Err(e) => {
                return Err(PublishError::Io {
                    what: "cannot exchange the new outputs with",
                    path: out.to_path_buf(),
                    source: e.into(),
                });
            }
        }
    }
    fs::rename(out, retired).map_err(PublishError::io(
        "cannot move the previous outputs aside from",
        out,
    ))?;
    if let Err(e) = fs::rename(staging, out) {
        let _ = fs::rename(retired, out);
        return Err(PublishError::Io {
            what: "cannot move the new outputs to",
            path: out.to_path_buf(),
            source: e,
        });
    }
    Ok(retired.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &[&str] = &["a.txt", "b.txt"];

    fn write_set(dir: &Path, text: &str) {
        for n in OURS {
            fs::write(dir.join(n), text).unwrap();
        }
    }

    fn read_set(dir: &Path) -> Vec<String> {
        OURS.iter()
            .map(|n| fs::read_to_string(dir.join(n)).unwrap())
            .collect()
    }

    #[test]
    fn a_commit_replaces_the_whole_set_and_keeps_no_staging_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        for text in ["first", "second"] {
            let p = Publish::begin(&out, OURS).unwrap();
            write_set(p.dir(), text);
            p.commit().unwrap().wait();
            assert_eq!(read_set(&out), vec![text, text]);
        }
        let names: Vec<String> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}"); // out and its lock file
    }

    #[test]
    fn a_run_that_fails_before_its_commit_leaves_the_previous_set() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let p = Publish::begin(&out, OURS).unwrap();
        write_set(p.dir(), "old");
        p.commit().unwrap().wait();
        let p = Publish::begin(&out, OURS).unwrap();
        fs::write(p.dir().join("a.txt"), "half").unwrap();
        drop(p);
        assert_eq!(read_set(&out), vec!["old", "old"]);
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_second_run_into_the_same_directory_is_refused_while_the_first_holds_it() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let first = Publish::begin(&out, OURS).unwrap();
        let err = Publish::begin(&out, OURS).unwrap_err();
        assert!(matches!(err, PublishError::Locked { .. }), "{err}");
        assert!(err.to_string().contains("another convstats run"), "{err}");
        drop(first);
        Publish::begin(&out, OURS).unwrap();
    }

    #[test]
    fn leftovers_of_a_killed_run_are_removed_by_the_next_run() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let left = tmp.path().join(".out.convstats-new-12345");
        fs::create_dir(&left).unwrap();
        fs::write(left.join("a.txt"), "x").unwrap();
        let other = tmp.path().join(".outer.convstats-new-1");
        fs::create_dir(&other).unwrap();
        let p = Publish::begin(&out, OURS).unwrap();
        assert!(!left.exists());
        assert!(other.exists(), "another directory's staging is not ours");
        drop(p);
    }

    #[test]
    fn a_directory_with_other_files_or_a_file_is_refused_with_their_names() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("a.txt"), "mine").unwrap();
        fs::write(out.join("notes.md"), "yours").unwrap();
        let err = Publish::begin(&out, OURS).unwrap_err();
        assert!(matches!(err, PublishError::Unusable(_)));
        assert!(err.to_string().contains("notes.md"), "{err}");
        assert_eq!(fs::read_to_string(out.join("notes.md")).unwrap(), "yours");
        let file = tmp.path().join("file");
        fs::write(&file, "").unwrap();
        assert!(matches!(
            Publish::begin(&file, OURS).unwrap_err(),
            PublishError::Unusable(_)
        ));
        assert!(matches!(
            Publish::begin(Path::new(".."), OURS).unwrap_err(),
            PublishError::Unusable(_)
        ));
        // What an earlier version left while replacing its files is ours.
        fs::remove_file(out.join("notes.md")).unwrap();
        fs::write(out.join(".a.txt.old-4242"), "older").unwrap();
        drop(Publish::begin(&out, OURS).unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_stays_and_its_target_is_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        fs::create_dir(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let p = Publish::begin(&link, OURS).unwrap();
        write_set(p.dir(), "via link");
        p.commit().unwrap().wait();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(read_set(&real), vec!["via link", "via link"]);
    }
}
