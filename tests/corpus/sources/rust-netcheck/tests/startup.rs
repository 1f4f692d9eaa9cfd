use netcheck::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn backoff_is_capped() {
    assert_eq!(backoff(40, 100, 30_000), 30_000);
}

#[test]
fn wait_until_sees_flag_set_by_worker() {
    let flag = Arc::new(AtomicBool::new(false));
    let worker_flag = flag.clone();
    let worker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        // Bug: the worker stores into its own copy of the state, not the shared flag.
        let local = AtomicBool::new(false);
        local.store(true, Ordering::SeqCst);
        drop(worker_flag);
    });
    wait_until(|| flag.load(Ordering::SeqCst), Duration::from_millis(10));
    worker.join().unwrap();
}
