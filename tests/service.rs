//! `cargo run` in miniature: the binary upgrades an empty file at start, then serves
//! health, task creation and task lookup through the diesel DSL.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn request(addr: &str, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status: u16 = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let json = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(json).unwrap())
}

#[test]
fn the_service_upgrades_at_start_and_serves_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_records"))
        .env("DB_URL", format!("sqlite:///{}", db.display()))
        .env("RECORDS_ADDR", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let service = Service(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected: {line}"))
        .to_string();

    let (status, health) = request(&addr, "GET", "/health", "");
    assert_eq!(status, 200);
    assert_eq!(health["at_head"], true, "{health}");
    assert_eq!(health["revision"], health["head"]);

    let (status, created) = request(
        &addr,
        "POST",
        "/tasks",
        r#"{"task_type": "transcription", "url": "https://example.invalid/a.wav", "language": "en"}"#,
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "queued");
    assert_eq!(created["retry_count"], 0);
    let uuid = created["uuid"].as_str().unwrap().to_string();
    let (status, read) = request(&addr, "GET", &format!("/tasks/{uuid}"), "");
    assert_eq!(status, 200);
    assert_eq!(read, created);
    let (status, _) = request(&addr, "GET", "/tasks/no-such-task", "");
    assert_eq!(status, 404);
    let (status, err) = request(&addr, "POST", "/tasks", r#"{"url": 3}"#);
    assert_eq!(status, 400, "{err}");
    drop(service);
}
