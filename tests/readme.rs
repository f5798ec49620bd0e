//! The README's commands, run in order in a clean clone of the repository: every
//! ```sh block, line by line. `cargo run` (the service) runs in the background until the
//! commands that talk to it are done. `cargo test` is not run from here: it is the command
//! that runs this test.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

#[path = "support/fixture.rs"]
mod fixture;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn shell(dir: &Path, target: &Path, line: &str) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(line)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target);
    for key in retort_build::SETTINGS_ENV
        .iter()
        .chain(&["DB_URL", "DATABASE_URL", "RETORT_BACKUP"])
    {
        cmd.env_remove(key);
    }
    cmd
}

#[test]
fn the_readme_commands_succeed_in_a_clean_clone() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(workspace.join("README.md")).unwrap();
    let list = fixture::sh_commands(&readme);
    assert!(
        list.len() >= 15,
        "the README's guide has its commands: {list:?}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let clone = tmp.path().join("retort");
    let status = Command::new("git")
        .args(["clone", "--quiet"])
        .arg(workspace)
        .arg(&clone)
        .status()
        .unwrap();
    assert!(status.success(), "git clone");
    // A target folder of its own (kept between runs), so the clone does not fight the outer build.
    let target = workspace.join("target/readme");
    let mut server: Option<Server> = None;
    for line in &list {
        if line.contains("cargo test") {
            continue;
        }
        if server.is_some() && !line.starts_with("curl") {
            server = None;
        }
        if line == "cargo run" {
            let mut child = shell(&clone, &target, line)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            let mut first = String::new();
            BufReader::new(stdout).read_line(&mut first).unwrap();
            assert!(
                first.starts_with("listening on http://127.0.0.1:8000"),
                "`cargo run` printed {first:?}"
            );
            server = Some(Server(child));
            continue;
        }
        let out = shell(&clone, &target, line).output().unwrap();
        assert!(
            out.status.success(),
            "README command failed: {line}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if line.starts_with("curl") {
            let body = String::from_utf8_lossy(&out.stdout);
            assert!(body.contains("\"status\""), "{line}: {body}");
        }
    }
    drop(server);
}
