//! A bounded load test of the reference service (`records serve`) on loopback, per backend:
//! `--clients` concurrent keep-alive clients for `--seconds` of mixed reads and writes (half
//! reads of one task, a fifth pages of the list, a fifth creations, a tenth status updates)
//! against one replica, while a second replica of the same binary starts on the same
//! database partway through (its start-up upgrade takes the migration lock and checks the
//! database while the first serves) and then takes half the clients. Prints requests/s,
//! p50/p99/max latency, the count of 5xx and failed requests, and the second replica's
//! start; exits 1 when any request got a 5xx or failed, or took longer than `--bound-ms`.
//!
//! ```sh
//! cargo build --release --bin records --features records/postgres,records/mysql
//! cargo run --release -p retort-bench --features servers --bin load -- \
//!     --records target/release/records --url sqlite --url "$RETORT_PG_URL" --url "$RETORT_MYSQL_URL"
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use diesel::connection::SimpleConnection;
use diesel::{Connection, MysqlConnection, PgConnection};

#[derive(Parser)]
struct Args {
    /// The `records` binary (a release build with the backends you name).
    #[arg(long, default_value = "target/release/records")]
    records: String,
    /// `sqlite` (a file in a temporary folder), or a PostgreSQL / MySQL server URL whose
    /// user may create databases.
    #[arg(long, required = true)]
    url: Vec<String>,
    #[arg(long, default_value_t = 64)]
    clients: usize,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// The slowest a request may be.
    #[arg(long, default_value_t = 2000)]
    bound_ms: u64,
    /// Connections in each replica's pool.
    #[arg(long, default_value_t = 16)]
    pool: usize,
}

/// A running replica; killed when dropped.
struct Replica {
    child: Child,
    addr: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn start(records: &str, url: &str, pool: usize) -> Replica {
    let mut child = Command::new(records)
        .arg("serve")
        .env("DB_URL", url)
        .env("RECORDS_ADDR", "127.0.0.1:0")
        .env("RECORDS_POOL_SIZE", pool.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{records}: {e}"));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("records serve ended").unwrap();
        if let Some(a) = line.strip_prefix("listening on http://") {
            break a.to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    Replica { child, addr }
}

/// One keep-alive HTTP/1.1 connection.
struct Client {
    addr: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Client {
    fn new(addr: &str) -> Client {
        Client {
            addr: addr.to_string(),
            stream: None,
        }
    }

    /// The status and body, or `None` when the connection failed.
    fn call(&mut self, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.addr).ok()?;
            s.set_nodelay(true).ok()?;
            self.stream = Some(BufReader::new(s));
        }
        let reader = self.stream.as_mut()?;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        let result = (|| {
            reader.get_mut().write_all(request.as_bytes()).ok()?;
            let mut line = String::new();
            reader.read_line(&mut line).ok()?;
            let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
            let mut length = 0;
            loop {
                line.clear();
                reader.read_line(&mut line).ok()?;
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().ok()?;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).ok()?;
            Some((status, String::from_utf8_lossy(&body).into_owned()))
        })();
        if result.is_none() {
            self.stream = None;
        }
        result
    }
}

/// A fresh database for `url` (`sqlite`: a file), and what removes it.
fn fresh(url: &str, dir: &std::path::Path) -> (String, Box<dyn FnOnce()>) {
    if url == "sqlite" {
        return (
            format!("sqlite:///{}", dir.join("load.db").display()),
            Box::new(|| {}),
        );
    }
    let name = format!("retort_load_{}", std::process::id());
    let base = url
        .rsplit_once('/')
        .expect("a URL with a database")
        .0
        .to_string();
    let admin = url.to_string();
    let run = move |sql: &str| {
        if admin.starts_with("postgres") {
            PgConnection::establish(&admin).unwrap().batch_execute(sql)
        } else {
            MysqlConnection::establish(&admin)
                .unwrap()
                .batch_execute(sql)
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    run(&format!("DROP DATABASE IF EXISTS {name}"));
    run(&format!("CREATE DATABASE {name}"));
    let force = if url.starts_with("postgres") {
        " WITH (FORCE)"
    } else {
        ""
    };
    let drop_sql = format!("DROP DATABASE IF EXISTS {name}{force}");
    (format!("{base}/{name}"), Box::new(move || run(&drop_sql)))
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    server_errors: usize,
    failed: usize,
    client_errors: usize,
}

fn pick(seed: &mut u64, n: usize) -> usize {
    // xorshift: cheap and repeatable per client.
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed % n as u64) as usize
}

fn one_backend(args: &Args, url: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let (db, remove) = fresh(url, dir.path());
    let first = start(&args.records, &db, args.pool);
    // Tasks to read and update.
    let mut seeder = Client::new(&first.addr);
    let uuids: Vec<String> = (0..200)
        .map(|i| {
            let (status, body) = seeder
                .call(
                    "POST",
                    "/tasks",
                    &format!(r#"{{"task_type": "transcription", "file_name": "seed{i}.wav"}}"#),
                )
                .expect("seeding");
            assert_eq!(status, 201, "{body}");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            v["uuid"].as_str().unwrap().to_string()
        })
        .collect();
    let uuids = Arc::new(uuids);
    let second_addr: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.clients)
        .map(|c| {
            let (uuids, stop, done) = (uuids.clone(), stop.clone(), done.clone());
            let first = first.addr.clone();
            let second = second_addr.clone();
            std::thread::spawn(move || {
                let mut tally = Tally::default();
                let mut client = Client::new(&first);
                let mut moved = false;
                let mut seed = 0x9e37_79b9_7f4a_7c15_u64 ^ (c as u64 + 1);
                while !stop.load(Ordering::Relaxed) {
                    // Odd clients move to the second replica once it listens.
                    if !moved && c % 2 == 1 {
                        if let Some(a) = second.lock().unwrap().clone() {
                            client = Client::new(&a);
                            moved = true;
                        }
                    }
                    let roll = pick(&mut seed, 100);
                    let uuid = &uuids[pick(&mut seed, uuids.len())];
                    let t = Instant::now();
                    let result = match roll {
                        0..=49 => client.call("GET", &format!("/tasks/{uuid}"), ""),
                        50..=69 => client.call(
                            "GET",
                            &format!("/tasks?limit=20&offset={}", pick(&mut seed, 180)),
                            "",
                        ),
                        70..=89 => client.call(
                            "POST",
                            "/tasks",
                            r#"{"task_type": "transcription", "url": "https://example.invalid/a.wav", "task_params": {"beams": 5}}"#,
                        ),
                        _ => client.call(
                            "PATCH",
                            &format!("/tasks/{uuid}"),
                            r#"{"status": "processing"}"#,
                        ),
                    };
                    tally.latencies.push(t.elapsed());
                    match result {
                        Some((s, _)) if s >= 500 => tally.server_errors += 1,
                        Some((s, _)) if s >= 400 => tally.client_errors += 1,
                        Some(_) => {}
                        None => tally.failed += 1,
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                tally
            })
        })
        .collect();
    // A quarter of the way in, the second replica starts (and upgrades, under the lock).
    std::thread::sleep(Duration::from_secs(args.seconds) / 4);
    let t = Instant::now();
    let second = start(&args.records, &db, args.pool);
    let second_start = t.elapsed();
    *second_addr.lock().unwrap() = Some(second.addr.clone());
    let remaining = Duration::from_secs(args.seconds).saturating_sub(started.elapsed());
    std::thread::sleep(remaining);
    stop.store(true, Ordering::Relaxed);
    let mut all = Tally::default();
    for w in workers {
        let t = w.join().unwrap();
        all.latencies.extend(t.latencies);
        all.server_errors += t.server_errors;
        all.failed += t.failed;
        all.client_errors += t.client_errors;
    }
    let took = started.elapsed();
    drop(second);
    drop(first);
    remove();
    all.latencies.sort();
    let n = all.latencies.len();
    let at = |q: f64| all.latencies[((n as f64 * q) as usize).min(n - 1)];
    let max = *all.latencies.last().unwrap();
    let name = url.split("://").next().unwrap_or(url);
    println!(
        "{name:<9} {n:>8} requests in {:.1} s: {:>7.0} req/s  p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>7.1} ms  5xx {}  failed {}  4xx {}  second replica up in {:.0} ms",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        all.server_errors,
        all.failed,
        all.client_errors,
        second_start.as_secs_f64() * 1e3,
    );
    all.server_errors == 0
        && all.failed == 0
        && all.client_errors == 0
        && max <= Duration::from_millis(args.bound_ms)
}

fn main() {
    let args = Args::parse();
    println!(
        "{} clients, {} s each, mixed reads and writes; a second replica starts at {} s; bound {} ms",
        args.clients,
        args.seconds,
        args.seconds / 4,
        args.bound_ms
    );
    let mut ok = true;
    for url in &args.url {
        ok &= one_backend(&args, url);
    }
    if !ok {
        eprintln!("a request failed, got a 4xx/5xx, or took longer than the bound");
        std::process::exit(1);
    }
}
