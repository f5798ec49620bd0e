//! The container image's runtime stage, for real: the `runtime-base` stage of the
//! `Dockerfile` built with podman on a Debian bookworm base made by `debootstrap` (no
//! registry here), the release binary built on this machine copied in as the build stage
//! would, then run: it migrates its database on start and answers `/health` at head, on
//! SQLite (its default, in its volume) and against the test PostgreSQL; it runs as a user
//! that is not root, its `HEALTHCHECK` passes, and `podman stop` (SIGTERM) ends it cleanly.
//!
//! Needs podman and a base image: `eval "$(bash scripts/container-base.sh)"` (what `.ci/run`
//! does) sets `RECORDS_CONTAINER_BASE` and `CONTAINERS_CONF`. Without them the test says so
//! and passes; with `CI=true` it fails. The Dockerfile's build stage needs a Rust image from
//! a registry and is not built here.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

#[path = "../runtime/tests/support/mod.rs"]
mod runtime_support;
use runtime_support::TestDb;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn podman(args: &[&str]) -> Output {
    Command::new("podman").args(args).output().unwrap()
}

fn podman_ok(args: &[&str]) -> String {
    let out = podman(args);
    assert!(
        out.status.success(),
        "podman {args:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The release binary: `RECORDS_RELEASE_BIN` (built by `.ci/run`), else built here into a
/// target folder of its own (the test's own `cargo` holds the usual one).
fn release_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("RECORDS_RELEASE_BIN") {
        return p.into();
    }
    let target = workspace().join("target/container");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--bin",
            "records",
            "--features",
            "postgres,mysql",
        ])
        .arg("--target-dir")
        .arg(&target)
        .current_dir(workspace())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("release/records")
}

/// Removes the images and containers it names when dropped.
struct Cleanup(Vec<(&'static str, String)>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for (what, id) in self.0.iter().rev() {
            let _ = match *what {
                "container" => podman(&["rm", "-f", id]),
                _ => podman(&["rmi", "-f", id]),
            };
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(addr: &str, method: &str, path: &str, body: &str) -> Option<(u16, serde_json::Value)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let json = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    Some((status, serde_json::from_str(json).unwrap_or_default()))
}

/// Runs the image with `env` on a free loopback port, waits for `/health` at head, and
/// checks what every start must give. Returns the container's id and address.
///
/// `published`: as the README runs it, the image's own address (0.0.0.0:8000) published on a
/// loopback port; else on the host's network (to reach the test servers on loopback).
fn run_at_head(
    image: &str,
    published: bool,
    env: &[(&str, &str)],
    cleanup: &mut Cleanup,
    what: &str,
) -> (String, String) {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec!["run".to_string(), "-d".into()];
    if published {
        args.extend(["-p".to_string(), format!("{addr}:8000")]);
    } else {
        args.extend(["--network".to_string(), "host".into()]);
        args.extend(["-e".to_string(), format!("RECORDS_ADDR={addr}")]);
    }
    for (k, v) in env {
        args.extend(["-e".to_string(), format!("{k}={v}")]);
    }
    args.push(image.to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let id = podman_ok(&args);
    cleanup.0.push(("container", id.clone()));
    let started = Instant::now();
    loop {
        if let Some((200, health)) = get(&addr, "GET", "/health", "") {
            assert_eq!(health["at_head"], true, "{what}: {health}");
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            panic!(
                "{what}: no /health at head after 60 s:\n{}",
                podman_ok(&["logs", &id])
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let logs = String::from_utf8_lossy(&podman(&["logs", &id]).stderr).to_string();
    assert!(
        logs.contains("retort: upgraded to"),
        "{what}: migrated on start:\n{logs}"
    );
    // The image's own health check, and the user the service runs as.
    podman_ok(&["healthcheck", "run", &id]);
    assert_eq!(
        podman_ok(&["exec", &id, "id", "-u"]),
        "10001",
        "{what}: not root"
    );
    let (status, created) =
        get(&addr, "POST", "/tasks", r#"{"task_type": "t", "url": "u"}"#).unwrap();
    assert_eq!(status, 201, "{what}: {created}");
    (id, addr)
}

/// `podman stop` sends SIGTERM: the service finishes and exits 0.
fn stops_cleanly(id: &str, what: &str) {
    podman_ok(&["stop", "-t", "20", id]);
    let code = podman_ok(&["inspect", id, "--format", "{{.State.ExitCode}}"]);
    assert_eq!(code, "0", "{what}: exit code after SIGTERM");
    let out = podman(&["logs", id]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stopped"),
        "{what}"
    );
}

#[test]
fn the_container_migrates_on_start_and_answers_health_at_head() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let Some(base) = std::env::var("RECORDS_CONTAINER_BASE")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        assert!(!ci, "RECORDS_CONTAINER_BASE is not set and CI=true: run `eval \"$(bash scripts/container-base.sh)\"`");
        eprintln!("note: RECORDS_CONTAINER_BASE is not set; skipping. To run it: eval \"$(bash scripts/container-base.sh)\"");
        return;
    };
    let tag = std::process::id();
    let mut cleanup = Cleanup(Vec::new());

    // The Dockerfile's runtime stage, on the local base.
    let stage = format!("localhost/records-runtime-base:t{tag}");
    podman_ok(&[
        "build",
        "--isolation",
        "chroot",
        "--format",
        "docker",
        "--target",
        "runtime-base",
        "--build-arg",
        &format!("RUNTIME_IMAGE={base}"),
        "-t",
        &stage,
        "-f",
        workspace().join("Dockerfile").to_str().unwrap(),
        workspace().to_str().unwrap(),
    ]);
    cleanup.0.push(("image", stage.clone()));
    // What the build stage would add: the release binary, at the same path.
    let context = tempfile::tempdir().unwrap();
    std::fs::copy(release_binary(), context.path().join("records")).unwrap();
    std::fs::write(
        context.path().join("Containerfile"),
        format!("FROM {stage}\nCOPY records /usr/local/bin/records\n"),
    )
    .unwrap();
    let image = format!("localhost/records:t{tag}");
    podman_ok(&[
        "build",
        "--isolation",
        "chroot",
        "--format",
        "docker",
        "-t",
        &image,
        context.path().to_str().unwrap(),
    ]);
    cleanup.0.push(("image", image.clone()));
    let config = podman_ok(&[
        "image",
        "inspect",
        &image,
        "--format",
        "{{.Config.User}} {{.Config.Healthcheck}}",
    ]);
    assert!(
        config.starts_with("records ") && config.contains("/health"),
        "{config}"
    );

    // SQLite, as the README's `docker run` line has it: the file in the /data volume.
    let (id, _) = run_at_head(
        &image,
        true,
        &[("DB_URL", "sqlite:///records.db")],
        &mut cleanup,
        "sqlite",
    );
    let data = podman_ok(&["exec", &id, "ls", "/data"]);
    assert!(data.lines().any(|l| l == "records.db"), "{data}");
    stops_cleanly(&id, "sqlite");

    // The test PostgreSQL.
    match TestDb::on_server("RETORT_PG_URL") {
        Some(db) => {
            let (id, _) = run_at_head(
                &image,
                false,
                &[("DB_URL", &db.url_text)],
                &mut cleanup,
                "postgres",
            );
            assert_eq!(db.count("SELECT COUNT(*) AS n FROM tasks"), 1);
            assert!(db.count("SELECT COUNT(*) AS n FROM retort_versions") > 0);
            stops_cleanly(&id, "postgres");
        }
        None => assert!(!ci, "RETORT_PG_URL is not set and CI=true"),
    }
}
