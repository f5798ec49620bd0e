//! Paired measurement: in every round each contender runs once, in a rotating order, and
//! each contender's time is divided by the floor's time of the same round. The machines
//! are noisy; a ratio taken within one round cancels most of it, and the median of the
//! rounds drops the outliers.

use std::time::Duration;

/// What a contender's run reports: the time of the part being measured (set-up excluded).
pub type Run<'a> = Box<dyn FnMut() -> Duration + 'a>;

/// Results of one row: per contender, its median time and its median ratio to the first
/// contender (the floor).
pub struct Row {
    pub names: Vec<String>,
    pub median: Vec<Duration>,
    pub ratio: Vec<f64>,
}

/// Runs `rounds` paired rounds (after one warm-up round) of the contenders.
pub fn paired(rounds: usize, mut contenders: Vec<(&str, Run<'_>)>) -> Row {
    let k = contenders.len();
    for (_, run) in contenders.iter_mut() {
        run();
    }
    let mut times = vec![Vec::with_capacity(rounds); k];
    for round in 0..rounds {
        for j in 0..k {
            let c = (round + j) % k;
            let t = (contenders[c].1)();
            times[c].push(t);
        }
    }
    let ratio = (0..k)
        .map(|c| {
            median_f64(
                (0..rounds)
                    .map(|r| times[c][r].as_secs_f64() / times[0][r].as_secs_f64())
                    .collect(),
            )
        })
        .collect();
    Row {
        names: contenders.iter().map(|(n, _)| n.to_string()).collect(),
        median: times.into_iter().map(median).collect(),
        ratio,
    }
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn median_f64(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// `1.23 ms`, `456 µs`, `7.89 s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

impl Row {
    /// One line per contender: median time and ratio to the floor.
    pub fn print(&self, title: &str) {
        println!("{title}");
        for i in 0..self.names.len() {
            println!(
                "  {:<34} {:>10}   {:.2}×",
                self.names[i],
                human(self.median[i]),
                self.ratio[i]
            );
        }
    }
}
