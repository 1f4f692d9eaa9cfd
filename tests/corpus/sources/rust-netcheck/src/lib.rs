use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Parse "host:port" and check the port range.
pub fn parse_target(s: &str) -> Result<(String, u16), String> {
    let (host, port) = s.rsplit_once(':').ok_or_else(|| format!("missing port in {s:?}"))?;
    let port: u16 = port.parse().map_err(|_| format!("bad port in {s:?}"))?;
    if host.is_empty() || port == 0 {
        return Err(format!("bad target {s:?}"));
    }
    Ok((host.to_string(), port))
}

/// Send one line to a health endpoint and return the first line of the answer.
pub fn probe(addr: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(b"PING\n")?;
    let mut buf = [0u8; 128];
    let n = stream.read(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_string())
}

/// Exponential backoff schedule in milliseconds, capped.
pub fn backoff(attempt: u32, base_ms: u64, cap_ms: u64) -> u64 {
    base_ms.saturating_mul(1u64 << attempt.min(32)).min(cap_ms)
}

/// Wait until `ready()` returns true, polling every `step`.
pub fn wait_until(mut ready: impl FnMut() -> bool, step: Duration) {
    while !ready() {
        std::thread::sleep(step);
    }
}
