//! "The output directory always holds one complete set, the old one or the
//! new one, whatever happens": `compute` killed by SIGKILL, SIGTERM or
//! SIGINT at many instants while it reads and writes, two runs into one
//! `--out` at once, a full file system, an empty stdin.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use convstats::output::FILES;
use convstats::synth::{GenParams, write_all};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_convstats"))
}

fn compute(input: &Path, out: &Path) -> Command {
    let mut c = Command::new(bin());
    c.arg("compute")
        .arg(input)
        .arg("--out")
        .arg(out)
        .env_remove("CONVSTATS_OUT")
        .env_remove("CONVSTATS_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    c
}

/// Runs `compute` to its end and asserts it succeeded.
fn compute_ok(input: &Path, out: &Path) {
    let status = compute(input, out).stderr(Stdio::null()).status().unwrap();
    assert!(
        status.success(),
        "compute {} --out {}",
        input.display(),
        out.display()
    );
}

fn generate(dir: &Path, name: &str, conversations: u64, seed: u64) -> PathBuf {
    let params = GenParams {
        conversations,
        seed,
        ..GenParams::default()
    };
    let mut bytes = Vec::new();
    write_all(&params, &mut bytes).unwrap();
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// Every entry of `dir` with its bytes.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// A complete reference set computed from `input` into a directory of its own.
fn reference(input: &Path, dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let status = compute(input, dir).stderr(Stdio::null()).status().unwrap();
    assert!(status.success());
    let set = contents(dir);
    assert_eq!(set.len(), FILES.len());
    set
}

/// Names beside `out` that a run leaves while it works (staging, retired).
fn leftovers(parent: &Path) -> Vec<String> {
    fs::read_dir(parent)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.contains(".convstats-").then_some(n)
        })
        .collect()
}

/// True once the run has created a file in its staging directory.
fn writing(parent: &Path) -> bool {
    leftovers(parent).iter().any(|n| {
        fs::read_dir(parent.join(n))
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    })
}

/// Two inputs and the complete sets `compute` makes of them. Each run below
/// reads the same input paths as its reference (the report quotes them).
struct Sets {
    dir: tempfile::TempDir,
    input_old: PathBuf,
    input_new: PathBuf,
    old: BTreeMap<String, Vec<u8>>,
    new: BTreeMap<String, Vec<u8>>,
}

fn sets(conversations: u64) -> Sets {
    let dir = tempfile::tempdir().unwrap();
    let input_old = generate(dir.path(), "old.ndjson", conversations / 4, 1);
    let input_new = generate(dir.path(), "new.ndjson", conversations, 2);
    let old = reference(&input_old, &dir.path().join("ref-old"));
    let new = reference(&input_new, &dir.path().join("ref-new"));
    assert_ne!(old, new);
    Sets {
        dir,
        input_old,
        input_new,
        old,
        new,
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

#[test]
fn a_compute_killed_at_any_instant_leaves_exactly_the_old_or_the_new_complete_set() {
    let s = sets(20_000);
    let parent = s.dir.path().join("runs");
    fs::create_dir(&parent).unwrap();
    let out = parent.join("out");
    compute_ok(&s.input_old, &out);
    assert_eq!(contents(&out), s.old);

    let mut killed_while_writing_kept_old = 0;
    let mut finished_new = 0;
    // (signal, wait for the first staged file?, delay after that)
    let mut plan = Vec::new();
    for sig in ["KILL", "TERM", "INT"] {
        plan.push((sig, false, 0u64));
        for delay in [0, 5, 20, 60, 150, 400, 1000] {
            plan.push((sig, true, delay));
        }
    }
    for (sig, wait_for_writing, delay) in plan {
        let mut child = compute(&s.input_new, &out)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut was_writing = false;
        if wait_for_writing {
            while !writing(&parent) && Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            was_writing = writing(&parent);
            std::thread::sleep(Duration::from_millis(delay));
        } else {
            std::thread::sleep(Duration::from_millis(20));
        }
        let exited_by_itself = child.try_wait().unwrap().is_some();
        if !exited_by_itself {
            signal(child.id(), sig);
        }
        let _ = child.wait().unwrap();
        let now = contents(&out);
        assert!(
            now == s.old || now == s.new,
            "SIG{sig} {delay} ms after writing began: the directory holds neither complete set ({:?})",
            now.iter().map(|(k, v)| (k, v.len())).collect::<Vec<_>>()
        );
        if now == s.old && was_writing {
            killed_while_writing_kept_old += 1;
        }
        if now == s.new {
            finished_new += 1;
            // Back to the old set for the next instant.
            compute_ok(&s.input_old, &out);
            assert!(leftovers(&parent).is_empty(), "{:?}", leftovers(&parent));
        }
    }
    assert!(
        killed_while_writing_kept_old > 0,
        "no kill landed while the outputs were being written; the test did not test"
    );
    // The next run removes whatever the killed runs left beside the directory.
    compute_ok(&s.input_new, &out);
    assert_eq!(contents(&out), s.new);
    assert!(leftovers(&parent).is_empty(), "{:?}", leftovers(&parent));
    eprintln!(
        "kills that kept the old set while writing: {killed_while_writing_kept_old}; runs that finished: {finished_new}"
    );
}

#[test]
fn two_computes_into_one_out_at_once_leave_one_complete_set_and_the_second_says_why_it_stopped() {
    let s = sets(4_000);
    let out = s.dir.path().join("out");
    for round in 0..4 {
        let (first, second) = if round % 2 == 0 {
            (&s.input_old, &s.input_new)
        } else {
            (&s.input_new, &s.input_old)
        };
        let a = compute(first, &out).stderr(Stdio::piped()).spawn().unwrap();
        let b = compute(second, &out)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let a = a.wait_with_output().unwrap();
        let b = b.wait_with_output().unwrap();
        let now = contents(&out);
        assert!(now == s.old || now == s.new, "round {round}: a mix of sets");
        for run in [&a, &b] {
            if !run.status.success() {
                let err = String::from_utf8_lossy(&run.stderr);
                assert_eq!(run.status.code(), Some(1), "{err}");
                assert!(
                    err.contains("another convstats run is writing into"),
                    "round {round}: {err}"
                );
            }
        }
        assert!(a.status.success() || b.status.success());
        // The set is the one of the run that succeeded last.
        if a.status.success() != b.status.success() {
            let winner = if a.status.success() { first } else { second };
            let expected = if winner == &s.input_old {
                &s.old
            } else {
                &s.new
            };
            assert_eq!(&now, expected, "round {round}");
        }
    }
}

/// A small tmpfs, mounted for the test (root, or a user namespace); `None`
/// when this machine does not allow it.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_with_exit_1_a_reason_and_the_previous_set_intact() {
    let s = sets(4_000);
    let old_size: usize = s.old.values().map(Vec::len).sum();
    let new_size: usize = s.new.values().map(Vec::len).sum();
    // Room for the old set and half of the new one.
    let size = old_size + new_size / 2;
    let mount_point = s.dir.path().join("small");
    let Some(_fs) = Tmpfs::mount(&mount_point, &size.to_string()) else {
        eprintln!(
            "skipped: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN); CI runs this test as root"
        );
        return;
    };
    let out = mount_point.join("out");
    compute_ok(&s.input_old, &out);
    assert_eq!(contents(&out), s.old);
    let run = compute(&s.input_new, &out)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains("previous outputs were left as they were"),
        "{err}"
    );
    assert_eq!(contents(&out), s.old);
    assert!(
        leftovers(&mount_point).is_empty(),
        "a failed run removes its staging directory: {:?}",
        leftovers(&mount_point)
    );
}

#[test]
fn an_empty_stdin_replaces_the_outputs_with_an_empty_set_and_the_summary_says_so() {
    let s = sets(400);
    let out = s.dir.path().join("out");
    compute_ok(&s.input_old, &out);
    let run = Command::new(bin())
        .args(["compute", "--out"])
        .arg(&out)
        .env_remove("CONVSTATS_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("no input lines were read: the outputs now hold an empty set"),
        "{err}"
    );
    let now = contents(&out);
    assert_eq!(now.len(), FILES.len());
    assert!(now["conversations-new.ndjson"].is_empty());
}

#[test]
fn an_out_directory_holding_other_files_is_refused_with_exit_2_and_left_alone() {
    let s = sets(400);
    let out = s.dir.path().join("mine");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("thesis.tex"), "precious").unwrap();
    let run = compute(&s.input_old, &out)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("thesis.tex"), "{err}");
    assert_eq!(fs::read(out.join("thesis.tex")).unwrap(), b"precious");
}
