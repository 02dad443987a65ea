//! How many threads (kernel tasks) the process has: privileges are dropped
//! only when it is one, so no thread is left behind with root.

use std::time::{Duration, Instant};

/// The number of entries in `/proc/self/task`.
fn count() -> std::io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/task")?.count())
}

/// The thread count, waiting up to 100 ms for threads that were joined
/// (a joined thread's task can linger for a moment while it exits).
pub fn settle_to_one() -> std::io::Result<usize> {
    let start = Instant::now();
    loop {
        let n = count()?;
        if n <= 1 || start.elapsed() > Duration::from_millis(100) {
            return Ok(n);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
