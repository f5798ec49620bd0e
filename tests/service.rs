//! The reference service on every backend this run reaches (SQLite always; PostgreSQL and
//! MariaDB from `scripts/test-dbs.sh`): the binary upgrades at start, then serves tasks and
//! speaker embeddings through one diesel DSL — create, read, list a page at a time, update,
//! delete — and answers bad input with a 400 that names the field, unknown things with 404,
//! and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

#[path = "../runtime/tests/support/mod.rs"]
mod runtime_support;
use runtime_support::TestDb;

/// A running `records serve`; killed when dropped.
struct Service {
    child: Child,
    addr: String,
    /// What it has written to stderr so far.
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Service {
    /// `records serve` on `db`, on a free loopback port.
    fn start(db: &TestDb) -> Service {
        Service::wait_listening(Service::spawn(db), db)
    }

    /// `records serve` on `db`, started; not yet listening.
    fn spawn(db: &TestDb) -> Child {
        Command::new(env!("CARGO_BIN_EXE_records"))
            .arg("serve")
            .env("DB_URL", &db.url_text)
            .env_remove("DATABASE_URL")
            .env("RECORDS_ADDR", "127.0.0.1:0")
            .env("RECORDS_POOL_SIZE", "4")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Waits for `child` to say where it listens.
    fn wait_listening(mut child: Child, db: &TestDb) -> Service {
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while err.read_line(&mut line).is_ok_and(|n| n > 0) {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.wait();
                std::thread::sleep(std::time::Duration::from_millis(100));
                panic!(
                    "{}: records serve ended before listening:\n{}",
                    db.dialect.name(),
                    stderr.lock().unwrap()
                );
            };
            if let Some(addr) = line.strip_prefix("listening on http://") {
                break addr.to_string();
            }
        };
        // Keep reading stdout so the service never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Service {
            child,
            addr,
            stderr,
        }
    }

    /// One request; the status and the JSON body (`null` for an empty one).
    fn call(&self, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status: u16 = response.split_whitespace().nth(1).unwrap().parse().unwrap();
        let json = response.split("\r\n\r\n").nth(1).unwrap_or_default();
        let value = if json.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {response}"))
        };
        (status, value)
    }
}

/// A 400 whose body names `field`.
fn assert_bad(s: &Service, what: &str, method: &str, path: &str, body: &str, field: Option<&str>) {
    let (status, err) = s.call(method, path, body);
    assert_eq!(status, 400, "{what}: {err}");
    assert!(
        err["error"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {err}"
    );
    assert_eq!(err["field"].as_str(), field, "{what}: {err}");
}

fn tasks_api(s: &Service, name: &str) {
    let (status, health) = s.call("GET", "/health", "");
    assert_eq!(status, 200, "{name}: {health}");
    assert_eq!(health["at_head"], true, "{name}: {health}");
    assert_eq!(health["revision"], health["head"], "{name}");
    assert!(health["pool"]["max_size"] == 4, "{name}: {health}");

    let (status, created) = s.call(
        "POST",
        "/tasks",
        r#"{"task_type": "transcription", "url": "https://example.invalid/a.wav", "language": "en", "task_params": {"model": "large", "beams": 5}}"#,
    );
    assert_eq!(status, 201, "{name}: {created}");
    assert_eq!(created["status"], "queued", "{name}");
    assert_eq!(created["retry_count"], 0, "{name}: the server default");
    assert_eq!(
        created["task_params"]["beams"], 5,
        "{name}: JSON round trip"
    );
    assert!(
        created["created_at"].as_str().unwrap().ends_with('Z'),
        "{name}: {created}"
    );
    let uuid = created["uuid"].as_str().unwrap().to_string();
    let (status, read) = s.call("GET", &format!("/tasks/{uuid}"), "");
    assert_eq!((status, &read), (200, &created), "{name}");

    // Update: status and result; `processing` stamps start_time, `completed` end_time.
    let (status, updated) = s.call(
        "PATCH",
        &format!("/tasks/{uuid}"),
        r#"{"status": "processing"}"#,
    );
    assert_eq!(status, 200, "{name}: {updated}");
    assert!(updated["start_time"].is_string(), "{name}: {updated}");
    let (status, done) = s.call(
        "PATCH",
        &format!("/tasks/{uuid}"),
        r#"{"status": "completed", "result": {"text": "hello", "words": [1, 2]}, "duration": 1.5}"#,
    );
    assert_eq!(status, 200, "{name}: {done}");
    assert_eq!(done["status"], "completed", "{name}");
    assert_eq!(done["result"]["text"], "hello", "{name}");
    assert_eq!(done["duration"], 1.5, "{name}");
    assert_eq!(done["start_time"], updated["start_time"], "{name}");
    assert!(done["end_time"].is_string(), "{name}");
    assert_eq!(done["created_at"], created["created_at"], "{name}");

    // Paging: 5 more tasks, pages of 2, oldest first, every task once.
    for i in 0..5 {
        let (status, _) = s.call(
            "POST",
            "/tasks",
            &format!(r#"{{"task_type": "transcription", "file_name": "f{i}.wav"}}"#),
        );
        assert_eq!(status, 201, "{name}");
    }
    let mut seen = Vec::new();
    let mut offset = Some(0);
    while let Some(o) = offset {
        let (status, page) = s.call("GET", &format!("/tasks?limit=2&offset={o}"), "");
        assert_eq!(status, 200, "{name}: {page}");
        assert!(page["items"].as_array().unwrap().len() <= 2, "{name}");
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_i64().unwrap());
        }
        offset = page["next_offset"].as_i64();
    }
    assert_eq!(seen.len(), 6, "{name}: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{name}: {seen:?}");
    let (_, completed) = s.call("GET", "/tasks?status=completed", "");
    assert_eq!(
        completed["items"].as_array().unwrap().len(),
        1,
        "{name}: {completed}"
    );
    assert_eq!(completed["items"][0]["uuid"], uuid.as_str(), "{name}");

    // Bad input: a 400 naming the field, and nothing written.
    let bad: &[(&str, &str, &str, &str, Option<&str>)] = &[
        (
            "a wrong type",
            "POST",
            "/tasks",
            r#"{"task_type": 5, "url": "u"}"#,
            Some("task_type"),
        ),
        (
            "a missing field",
            "POST",
            "/tasks",
            r#"{"url": "u"}"#,
            Some("task_type"),
        ),
        (
            "an unknown field",
            "POST",
            "/tasks",
            r#"{"task_type": "t", "url": "u", "colour": 1}"#,
            Some("colour"),
        ),
        (
            "no audio",
            "POST",
            "/tasks",
            r#"{"task_type": "t"}"#,
            Some("url"),
        ),
        (
            "an empty task type",
            "POST",
            "/tasks",
            r#"{"task_type": " ", "url": "u"}"#,
            Some("task_type"),
        ),
        ("not JSON", "POST", "/tasks", "task_type=t", None),
        ("no body", "POST", "/tasks", "", None),
        (
            "trailing text",
            "POST",
            "/tasks",
            r#"{"task_type": "t", "url": "u"} x"#,
            None,
        ),
        (
            "an unknown status",
            "PATCH",
            &format!("/tasks/{uuid}"),
            r#"{"status": "done"}"#,
            Some("status"),
        ),
        (
            "a negative duration",
            "PATCH",
            &format!("/tasks/{uuid}"),
            r#"{"duration": -1}"#,
            Some("duration"),
        ),
        (
            "nothing to update",
            "PATCH",
            &format!("/tasks/{uuid}"),
            "{}",
            None,
        ),
        ("limit 0", "GET", "/tasks?limit=0", "", Some("limit")),
        (
            "limit too large",
            "GET",
            "/tasks?limit=501",
            "",
            Some("limit"),
        ),
        (
            "a negative offset",
            "GET",
            "/tasks?offset=-1",
            "",
            Some("offset"),
        ),
        (
            "an unknown parameter",
            "GET",
            "/tasks?sort=id",
            "",
            Some("sort"),
        ),
        (
            "an unknown status filter",
            "GET",
            "/tasks?status=done",
            "",
            Some("status"),
        ),
    ];
    for (what, method, path, body, field) in bad {
        assert_bad(s, &format!("{name}: {what}"), method, path, body, *field);
    }
    let (_, all) = s.call("GET", "/tasks?limit=500", "");
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        6,
        "{name}: bad input wrote nothing"
    );
    let (_, still) = s.call("GET", &format!("/tasks/{uuid}"), "");
    assert_eq!(still, done, "{name}: a refused update changed nothing");

    // Unknown things: 404 with a JSON error.
    for (method, path, body) in [
        ("GET", "/tasks/no-such-task", ""),
        ("PATCH", "/tasks/no-such-task", r#"{"status": "failed"}"#),
        ("DELETE", "/tasks/no-such-task", ""),
        ("GET", "/no/such/route", ""),
    ] {
        let (status, err) = s.call(method, path, body);
        assert_eq!(status, 404, "{name}: {method} {path}: {err}");
        assert!(err["error"].is_string(), "{name}: {err}");
    }

    // Delete.
    let (status, body) = s.call("DELETE", &format!("/tasks/{uuid}"), "");
    assert_eq!((status, body), (204, serde_json::Value::Null), "{name}");
    let (status, _) = s.call("GET", &format!("/tasks/{uuid}"), "");
    assert_eq!(status, 404, "{name}");
}

fn embeddings_api(s: &Service, name: &str) {
    let (_, task) = s.call(
        "POST",
        "/tasks",
        r#"{"task_type": "diarization", "url": "u"}"#,
    );
    let task_uuid = task["uuid"].as_str().unwrap();
    let (status, created) = s.call(
        "POST",
        "/speaker_embeddings",
        &format!(
            r#"{{"task_uuid": "{task_uuid}", "speaker_label": "SPEAKER_00", "embedding": [0.25, -1.5, 3]}}"#
        ),
    );
    assert_eq!(status, 201, "{name}: {created}");
    assert_eq!(
        created["embedding"],
        serde_json::json!([0.25, -1.5, 3.0]),
        "{name}"
    );
    let uuid = created["uuid"].as_str().unwrap();
    let (status, read) = s.call("GET", &format!("/speaker_embeddings/{uuid}"), "");
    assert_eq!((status, &read), (200, &created), "{name}");
    let (_, other) = s.call(
        "POST",
        "/speaker_embeddings",
        r#"{"speaker_label": "SPEAKER_01", "embedding": [1]}"#,
    );
    assert!(other["task_uuid"].is_null(), "{name}: {other}");
    let (_, of_task) = s.call(
        "GET",
        &format!("/speaker_embeddings?task_uuid={task_uuid}"),
        "",
    );
    assert_eq!(
        of_task["items"].as_array().unwrap().len(),
        1,
        "{name}: {of_task}"
    );
    let (_, all) = s.call("GET", "/speaker_embeddings", "");
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "{name}: {all}");

    let bad: &[(&str, &str, Option<&str>)] = &[
        (
            "a string in the vector",
            r#"{"speaker_label": "S", "embedding": [1, "x"]}"#,
            Some("embedding[1]"),
        ),
        (
            "an empty vector",
            r#"{"speaker_label": "S", "embedding": []}"#,
            Some("embedding"),
        ),
        ("no label", r#"{"embedding": [1]}"#, Some("speaker_label")),
        (
            "an unknown task",
            r#"{"task_uuid": "nope", "speaker_label": "S", "embedding": [1]}"#,
            Some("task_uuid"),
        ),
    ];
    for (what, body, field) in bad {
        assert_bad(
            s,
            &format!("{name}: embedding with {what}"),
            "POST",
            "/speaker_embeddings",
            body,
            *field,
        );
    }
    let (_, all) = s.call("GET", "/speaker_embeddings", "");
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        2,
        "{name}: bad input wrote nothing"
    );
    let (status, _) = s.call("DELETE", &format!("/speaker_embeddings/{uuid}"), "");
    assert_eq!(status, 204, "{name}");
    let (status, _) = s.call("DELETE", &format!("/speaker_embeddings/{uuid}"), "");
    assert_eq!(status, 404, "{name}");
}

#[test]
fn the_service_upgrades_at_start_and_serves_the_api_on_every_backend() {
    for db in TestDb::all() {
        let name = db.dialect.name();
        let s = Service::start(&db);
        tasks_api(&s, name);
        embeddings_api(&s, name);
    }
}

#[test]
fn sigterm_stops_the_service_cleanly() {
    let db = TestDb::sqlite();
    let mut s = Service::start(&db);
    let (status, _) = s.call("GET", "/health", "");
    assert_eq!(status, 200);
    let pid = s.child.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let code = loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(code.success(), "records serve after SIGTERM: {code:?}");
}

#[test]
fn three_replicas_started_at_once_all_serve_and_one_migrates() {
    for db in TestDb::all() {
        let name = db.dialect.name();
        let children: Vec<Child> = (0..3).map(|_| Service::spawn(&db)).collect();
        let replicas: Vec<Service> = children
            .into_iter()
            .map(|c| Service::wait_listening(c, &db))
            .collect();
        for (i, r) in replicas.iter().enumerate() {
            let (status, health) = r.call("GET", "/health", "");
            assert_eq!(status, 200, "{name}: replica {i}: {health}");
            assert_eq!(health["at_head"], true, "{name}: replica {i}: {health}");
            let (status, created) = r.call("POST", "/tasks", r#"{"task_type": "t", "url": "u"}"#);
            assert_eq!(status, 201, "{name}: replica {i}: {created}");
        }
        let said: Vec<String> = replicas
            .iter()
            .map(|r| r.stderr.lock().unwrap().clone())
            .collect();
        let applied: Vec<usize> = said
            .iter()
            .map(|s| s.matches("retort: applied ").count())
            .collect();
        let migrations = records::MIGRATIONS.all().len();
        assert_eq!(
            applied.iter().filter(|&&n| n > 0).count(),
            1,
            "{name}: exactly one replica applies the migrations: {said:#?}"
        );
        assert_eq!(
            applied.iter().sum::<usize>(),
            migrations,
            "{name}: each migration once: {said:#?}"
        );
        let (_, all) = replicas[0].call("GET", "/tasks", "");
        assert_eq!(all["items"].as_array().unwrap().len(), 3, "{name}");
    }
}

#[test]
fn a_database_error_answers_500_without_its_sql() {
    let db = TestDb::sqlite();
    let s = Service::start(&db);
    let (status, _) = s.call("POST", "/tasks", r#"{"task_type": "t", "url": "u"}"#);
    assert_eq!(status, 201);
    // The table is gone under the service: a database error, answered without its text.
    db.exec("DROP TABLE tasks");
    let (status, err) = s.call("GET", "/tasks", "");
    assert_eq!(status, 500, "{err}");
    let text = err["error"].as_str().unwrap();
    assert!(
        !text.contains("tasks") && !text.to_lowercase().contains("select"),
        "{text}"
    );
}
