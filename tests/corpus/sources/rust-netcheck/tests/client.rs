use netcheck::*;
use std::net::TcpListener;
use std::io::{BufRead, BufReader, Write};

#[test]
fn parse_target_00() { assert_eq!(parse_target("db:5432").is_ok(), true); }

#[test]
fn parse_target_01() { assert_eq!(parse_target("localhost:80").is_ok(), true); }

#[test]
fn parse_target_02() { assert_eq!(parse_target("10.0.0.1:65535").is_ok(), true); }

#[test]
fn parse_target_03() { assert_eq!(parse_target(":80").is_ok(), false); }

#[test]
fn parse_target_04() { assert_eq!(parse_target("db").is_ok(), false); }

#[test]
fn parse_target_05() { assert_eq!(parse_target("db:0").is_ok(), false); }

#[test]
fn parse_target_06() { assert_eq!(parse_target("db:70000").is_ok(), false); }

#[test]
fn parse_target_07() { assert_eq!(parse_target("[::1]:443").is_ok(), true); }

#[test]
fn parse_target_08() { assert_eq!(parse_target("cache:6379").is_ok(), true); }

#[test]
fn parse_target_09() { assert_eq!(parse_target("queue:abc").is_ok(), false); }

#[test]
fn backoff_attempt_00() { assert_eq!(backoff(0, 100, 30_000), 100); }

#[test]
fn backoff_attempt_01() { assert_eq!(backoff(1, 100, 30_000), 200); }

#[test]
fn backoff_attempt_02() { assert_eq!(backoff(2, 100, 30_000), 400); }

#[test]
fn backoff_attempt_03() { assert_eq!(backoff(3, 100, 30_000), 800); }

#[test]
fn backoff_attempt_04() { assert_eq!(backoff(4, 100, 30_000), 1600); }

#[test]
fn backoff_attempt_05() { assert_eq!(backoff(5, 100, 30_000), 3200); }

#[test]
fn backoff_attempt_06() { assert_eq!(backoff(6, 100, 30_000), 6400); }

#[test]
fn backoff_attempt_07() { assert_eq!(backoff(7, 100, 30_000), 12800); }

#[test]
fn backoff_attempt_08() { assert_eq!(backoff(8, 100, 30_000), 25600); }

#[test]
fn backoff_attempt_09() { assert_eq!(backoff(9, 100, 30_000), 30000); }

#[test]
fn backoff_attempt_10() { assert_eq!(backoff(10, 100, 30_000), 30000); }

#[test]
fn backoff_attempt_11() { assert_eq!(backoff(11, 100, 30_000), 30000); }

#[test]
fn probe_local_echo_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        (&stream).write_all(b"PONG\n").unwrap();
    });
    assert_eq!(probe(&addr.to_string()).unwrap(), "PONG");
    server.join().unwrap();
}

#[test]
fn probe_metrics_sidecar() {
    // The sidecar is started by the CI service container; it is usually up by now.
    let answer = probe("127.0.0.1:9464").expect("metrics sidecar at 127.0.0.1:9464");
    assert_eq!(answer, "PONG");
}
